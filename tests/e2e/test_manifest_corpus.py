"""Upstream's documentation manifests (the corpus beside the repository; see its SOURCE.md) through the real
kubectl: `kubectl apply --dry-run=server -f FILE`.

Every file whose kinds kubelite serves is accepted unchanged; the broken ones and the ones naming kinds or
versions kubelite does not serve are refused the way kubectl against a 1.32 API server refuses them; invalid
edits of good files are refused with upstream's field paths and messages.

Speed: the files expected to pass go through kubectl in batches (one process reads the OpenAPI documents
once for many files). A batch counts only if its output is exactly the union of its files' expected lines;
otherwise each of its files is run alone, so a failure always names its file.
"""

from __future__ import annotations

import collections
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from kubelite.api import resources
from tests.e2e.conftest import Kubectl, default_service_account, namespace_manifest
from tests.integration.apiserver.conftest import KUBECTL, RunningServer
from tests.support.examples import EXAMPLES, require_examples

BATCH_SIZE = 24

# Files a 1.32 API server (or kubectl itself) refuses, with what kubectl prints (substrings of stderr).
REFUSED: dict[str, tuple[str, ...]] = {
    # SOURCE.md: not YAML (a tab where indentation belongs); kubectl's parser says so.
    "controllers/job-pod-failure-policy-ignore.yaml": (
        "error parsing controllers/job-pod-failure-policy-ignore.yaml: error converting YAML to JSON: "
        "yaml: line 24: found a tab character that violates indentation",
    ),
    "pods/inject/pod-multiple-secret-env-variable.yaml": (
        "error parsing pods/inject/pod-multiple-secret-env-variable.yaml: error converting YAML to JSON: "
        "yaml: line 15: found a tab character that violates indentation",
    ),
    # SOURCE.md: no apiVersion; kubectl refuses before sending anything.
    "pods/inject/pod-single-secret-env-variable.yaml": (
        'error validating "pods/inject/pod-single-secret-env-variable.yaml": error validating data: '
        "apiVersion not set",
    ),
    # SOURCE.md: no metadata, so no name; kubectl cannot even look the object up.
    "controllers/job-success-policy-example.yaml": (
        'from server for: "controllers/job-success-policy-example.yaml": resource name may not be empty',
    ),
    # SOURCE.md: the removed ipFamily field, an unknown field under fieldValidation=Strict.
    "service/networking/dual-stack-ipv6-svc.yaml": (
        'Error from server (BadRequest): error when creating "service/networking/dual-stack-ipv6-svc.yaml": '
        'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field '
        '"spec.ipFamily"',
    ),
    # This stored version lists preference terms where a NodeSelector object belongs.
    "pods/pod-with-node-affinity.yaml": (
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
    ),
    # The file says so itself: ephemeral containers are added to running pods, never created with them.
    "pods/security/seccomp/fields.yaml": (
        'The Pod "pod" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create',
    ),
    # The Gt/Lt toleration operators are newer than 1.32.
    "pods/pod-with-numeric-toleration.yaml": (
        'The Pod "nginx-numeric-toleration" is invalid: spec.tolerations[0].operator: '
        'Unsupported value: "Gt": supported values: "Equal", "Exists"',
    ),
    # SOURCE.md counts this file as not YAML (PyYAML rejects its `\'` escape; kubectl's parser accepts it).
    # It uses env valueFrom.fileKeyRef, a 1.34 alpha field that 1.32 does not know.
    "pods/inject/envars-file-container.yaml": (
        'Error from server (BadRequest): error when creating "pods/inject/envars-file-container.yaml": '
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field '
        '"spec.containers[0].env[0].valueFrom.fileKeyRef"',
    ),
    # A template for sed: "$ITEM" is neither a valid name nor a label value until it is substituted.
    "application/job/job-tmpl.yaml": (
        'The Job "process-item-$ITEM" is invalid: \n'
        '* metadata.name: Invalid value: "process-item-$ITEM": a lowercase RFC 1123 subdomain must',
        '* spec.template.labels: Invalid value: "process-item-$ITEM": a valid label must be an empty string',
    ),
}

SYSTEM_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}  # exist from the start


@dataclass(frozen=True)
class Expectation:
    path: str
    accepted: tuple[str, ...]  # kubectl's "<resource>/<name>" of each document it must accept
    refused: tuple[str, ...]  # substrings of stderr; empty: the whole file is accepted
    namespaces: frozenset[str]

    @property
    def lines(self) -> list[str]:
        return [f"{ref} created (server dry run)" for ref in self.accepted]


def _ref(group: str, kind: str, name: str) -> str:
    return f"{kind.lower()}.{group}/{name}" if group else f"{kind.lower()}/{name}"


def expectation(path: str) -> Expectation:
    """What kubectl must do with one corpus file, from its documents and the kinds kubelite serves."""
    if path in REFUSED:
        return Expectation(path, (), REFUSED[path], frozenset())
    documents = [d for d in yaml.safe_load_all((EXAMPLES / path).read_text()) if d]
    accepted: list[str] = []
    refused: list[str] = []
    namespaces: set[str] = set()
    for document in documents:
        api_version, kind = document["apiVersion"], document["kind"]
        group, _, version = api_version.rpartition("/")
        meta = document.get("metadata") or {}
        if resources.for_kind(group, version, kind) is None:
            # SOURCE.md: kinds kubelite does not serve and retired versions, as a 1.32 server refuses them.
            refused.append(f'resource mapping not found for name: "{meta["name"]}"')
            refused.append(f'no matches for kind "{kind}" in version "{api_version}"')
        else:
            accepted.append(_ref(group, kind, meta["name"]))
            if meta.get("namespace"):
                namespaces.add(meta["namespace"])
    return Expectation(path, tuple(accepted), tuple(refused), frozenset(namespaces))


def _corpus() -> list[Expectation]:
    if not EXAMPLES.is_dir():
        return []
    return [expectation(str(p.relative_to(EXAMPLES))) for p in sorted(EXAMPLES.rglob("*.yaml"))]


CORPUS = _corpus()


def dry_run(
    server: RunningServer, *files: str, stdin: str | None = None, flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`kubectl apply --dry-run=server` of corpus files (paths relative to the corpus, as kubectl echoes
    them), or of one manifest on stdin."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    sources = ["-f", "-"] if stdin is not None else [arg for f in files for arg in ("-f", f)]
    return subprocess.run(
        [KUBECTL, "apply", "--dry-run=server", *flags, *sources],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=EXAMPLES,
        env=server.kubectl_env(),
        check=False,
    )


def _quiet(stderr: str) -> bool:
    return all(line.startswith("Warning:") for line in stderr.splitlines())


@dataclass
class CorpusRun:
    server: RunningServer
    passed_in_batch: set[str]

    def alone(self, path: str) -> subprocess.CompletedProcess[str]:
        return dry_run(self.server, path)


def _run_batch(server: RunningServer, batch: list[Expectation]) -> set[str]:
    """The files of a batch proven accepted: all of them if the output is exactly what they expect."""
    result = dry_run(server, *(e.path for e in batch))
    expected = collections.Counter(line for e in batch for line in e.lines)
    if (
        result.returncode == 0
        and _quiet(result.stderr)
        and collections.Counter(result.stdout.splitlines()) == expected
    ):
        return {e.path for e in batch}
    return set()


@pytest.fixture(scope="module")
def corpus_run(apiserver: RunningServer) -> CorpusRun:
    """The namespaces the corpus names, then every file expected to pass, in batches."""
    require_examples()
    namespaces = sorted(set().union(*(e.namespaces for e in CORPUS)) - SYSTEM_NAMESPACES)
    manifest = default_service_account("default") + "\n---\n" + namespace_manifest(*namespaces)
    Kubectl(apiserver, namespace="")("create", "-f", "-", input=manifest)
    good = [e for e in CORPUS if not e.refused]
    batches = [good[i : i + BATCH_SIZE] for i in range(0, len(good), BATCH_SIZE)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        passed = set().union(*pool.map(lambda batch: _run_batch(apiserver, batch), batches))
    return CorpusRun(apiserver, passed)


def test_the_corpus_is_here_and_mostly_served() -> None:
    require_examples()
    assert len(CORPUS) >= 200
    assert sum(1 for e in CORPUS if not e.refused) >= 180
    assert set(REFUSED) <= {e.path for e in CORPUS}


@pytest.mark.parametrize("case", CORPUS, ids=[e.path for e in CORPUS])
def test_corpus_file(corpus_run: CorpusRun, case: Expectation) -> None:
    if case.path in corpus_run.passed_in_batch:
        return
    result = corpus_run.alone(case.path)
    printed = result.stdout.splitlines()
    if not case.refused:
        assert result.returncode == 0 and _quiet(result.stderr), result.stderr
        assert sorted(printed) == sorted(case.lines)
        return
    assert result.returncode == 1, f"accepted: {result.stdout}"
    for expected in case.refused:
        assert expected in result.stderr
    # Documents of served kinds in the same file are still applied, as kubectl continues past mapping errors.
    assert sorted(printed) == sorted(case.lines)


# --- invalid edits of good files ----------------------------------------------------------------------


def load(path: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((EXAMPLES / path).read_text())
    return document


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
    containers: list[dict[str, Any]] = spec["containers"]
    return containers


def refused(server: RunningServer, obj: dict[str, Any]) -> str:
    """kubectl's complaint about a manifest it must refuse (the default: fieldValidation=Strict)."""
    result = dry_run(server, stdin=yaml.safe_dump(obj))
    assert result.returncode == 1, f"accepted: {result.stdout}"
    return result.stderr.strip()


def test_a_container_without_image(apiserver: RunningServer) -> None:
    require_examples()
    deployment = load("controllers/nginx-deployment.yaml")
    del containers_of(deployment)[0]["image"]
    assert refused(apiserver, deployment) == (
        'The Deployment "nginx-deployment" is invalid: spec.template.spec.containers[0].image: Required value'
    )
    pod = load("pods/simple-pod.yaml")
    del containers_of(pod)[0]["image"]
    assert refused(apiserver, pod) == 'The Pod "nginx" is invalid: spec.containers[0].image: Required value'


def test_port_numbers_out_of_range(apiserver: RunningServer) -> None:
    require_examples()
    deployment = load("controllers/nginx-deployment.yaml")
    containers_of(deployment)[0]["ports"][0]["containerPort"] = 70000
    assert refused(apiserver, deployment) == (
        'The Deployment "nginx-deployment" is invalid: '
        "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: "
        "must be between 1 and 65535, inclusive"
    )
    service = load("service/nginx-service.yaml")
    service["spec"]["ports"][0]["port"] = 0
    assert refused(apiserver, service) == (
        'The Service "nginx-service" is invalid: spec.ports[0].port: Invalid value: 0: '
        "must be between 1 and 65535, inclusive"
    )


def test_every_problem_is_listed(apiserver: RunningServer) -> None:
    require_examples()
    deployment = load("controllers/nginx-deployment.yaml")
    container = containers_of(deployment)[0]
    del container["image"]
    container["ports"][0]["containerPort"] = 0
    assert refused(apiserver, deployment) == (
        'The Deployment "nginx-deployment" is invalid: \n'
        "* spec.template.spec.containers[0].image: Required value\n"
        "* spec.template.spec.containers[0].ports[0].containerPort: Required value"
    )


def test_unknown_field_under_each_validation_level(apiserver: RunningServer) -> None:
    require_examples()
    deployment = load("controllers/nginx-deployment.yaml")
    containers_of(deployment)[0]["imagePullPolicyy"] = "Always"
    path = "spec.template.spec.containers[0].imagePullPolicyy"
    assert refused(apiserver, deployment) == (
        'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be '
        f'handled as a Deployment: strict decoding error: unknown field "{path}"'
    )
    for level, warning in (("--validate=warn", f'Warning: unknown field "{path}"'), ("--validate=false", "")):
        result = dry_run(apiserver, stdin=yaml.safe_dump(deployment), flags=(level,))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "deployment.apps/nginx-deployment created (server dry run)"
        assert result.stderr.strip() == warning


def test_selector_that_does_not_match_the_template(apiserver: RunningServer) -> None:
    require_examples()
    deployment = load("controllers/nginx-deployment.yaml")
    deployment["spec"]["template"]["metadata"]["labels"] = {"app.kubernetes.io/name": "other"}
    assert refused(apiserver, deployment) == (
        'The Deployment "nginx-deployment" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app.kubernetes.io/name":"other"}: `selector` does not match template `labels`'
    )
    replicaset = load("controllers/frontend.yaml")
    replicaset["spec"]["selector"]["matchLabels"] = {"tier": "backend"}
    assert refused(apiserver, replicaset) == (
        'The ReplicaSet "frontend" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"tier":"frontend"}: `selector` does not match template `labels`'
    )
