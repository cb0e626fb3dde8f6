"""Every served kind through the official `kubernetes` Python client's typed API classes.

The typed classes deserialise each response into their generated models, so a field the server returns in
a shape upstream never would (a missing required field, a wrong type) fails here even when kubectl shrugs it
off. Each kind goes create → read → list by label → watch from the list's resourceVersion → patch → replace
(read-modify-write, and the stale write is a conflict) → delete → 404. One server serves the whole module;
each kind works in a namespace of its own.
"""

from __future__ import annotations

import base64
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client, watch

from kubelite.api.resources import RESOURCES
from tests.integration.apiserver.conftest import RunningServer, start_server, stop_server

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
SUITE_LABEL = "suite"


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for the module: starting one per kind would cost most of the runtime."""
    server, thread = start_server(tmp_path_factory.mktemp("apiserver") / "data", shutdown_timeout=1.0)
    try:
        yield server
    finally:
        stop_server(server, thread)


@pytest.fixture(scope="module")
def api_client(apiserver: RunningServer) -> Any:
    return apiserver.python_client()


def _pod_template(app: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "Always"},
    }


def _workload(app: str) -> dict[str, Any]:
    return {"spec": {"selector": {"matchLabels": {"app": app}}, "template": _pod_template(app)}}


def _job_spec(app: str) -> dict[str, Any]:
    template = _pod_template(app)
    template["spec"]["restartPolicy"] = "Never"
    return {"template": template}


# The kind-specific part of a minimal valid object (the test adds metadata), given the object's namespace.
Body = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """A served kind as the typed client names it: `api` class and the `stem` of its method names
    (create_<stem>, read_<stem>, ...)."""

    plural: str
    api: type[Any]
    stem: str
    body: Body
    namespaced: bool = True

    @property
    def patch_type(self) -> str:
        """Strategic merge where upstream's core and apps types declare merge keys; merge patch elsewhere."""
        return STRATEGIC if self.api in (client.CoreV1Api, client.AppsV1Api) else MERGE

    def __str__(self) -> str:
        return f"{self.api.__name__.removesuffix('Api')}:{self.plural}"


KINDS = (
    Kind("namespaces", client.CoreV1Api, "namespace", lambda ns: {}, namespaced=False),
    Kind(
        "pods",
        client.CoreV1Api,
        "namespaced_pod",
        lambda ns: {"spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    ),
    Kind("nodes", client.CoreV1Api, "node", lambda ns: {}, namespaced=False),
    Kind(
        "services",
        client.CoreV1Api,
        "namespaced_service",
        lambda ns: {"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
    ),
    Kind(
        "endpoints",
        client.CoreV1Api,
        "namespaced_endpoints",
        lambda ns: {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]},
    ),
    Kind("configmaps", client.CoreV1Api, "namespaced_config_map", lambda ns: {"data": {"k": "v"}}),
    Kind(
        "secrets",
        client.CoreV1Api,
        "namespaced_secret",
        lambda ns: {"data": {"k": base64.b64encode(b"v").decode()}},
    ),
    Kind("serviceaccounts", client.CoreV1Api, "namespaced_service_account", lambda ns: {}),
    Kind(
        "events",
        client.CoreV1Api,
        "namespaced_event",
        lambda ns: {
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": ns},
            "reason": "Tested",
            "message": "a legacy event",
            "type": "Normal",
        },
    ),
    Kind(
        "persistentvolumes",
        client.CoreV1Api,
        "persistent_volume",
        lambda ns: {
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/tmp/kubelite-pv"},
            }
        },
        namespaced=False,
    ),
    Kind(
        "persistentvolumeclaims",
        client.CoreV1Api,
        "namespaced_persistent_volume_claim",
        lambda ns: {
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        },
    ),
    Kind(
        "resourcequotas",
        client.CoreV1Api,
        "namespaced_resource_quota",
        lambda ns: {"spec": {"hard": {"pods": "10"}}},
    ),
    Kind(
        "limitranges",
        client.CoreV1Api,
        "namespaced_limit_range",
        lambda ns: {"spec": {"limits": [{"type": "Container", "default": {"cpu": "100m"}}]}},
    ),
    Kind(
        "replicationcontrollers",
        client.CoreV1Api,
        "namespaced_replication_controller",
        lambda ns: {"spec": {"replicas": 1, "selector": {"app": "rc"}, "template": _pod_template("rc")}},
    ),
    Kind(
        "podtemplates",
        client.CoreV1Api,
        "namespaced_pod_template",
        lambda ns: {"template": _pod_template("t")},
    ),
    Kind("deployments", client.AppsV1Api, "namespaced_deployment", lambda ns: _workload("deploy")),
    Kind("replicasets", client.AppsV1Api, "namespaced_replica_set", lambda ns: _workload("rs")),
    Kind("daemonsets", client.AppsV1Api, "namespaced_daemon_set", lambda ns: _workload("ds")),
    Kind(
        "statefulsets",
        client.AppsV1Api,
        "namespaced_stateful_set",
        lambda ns: {"spec": {**_workload("sts")["spec"], "serviceName": "sts"}},
    ),
    Kind(
        "controllerrevisions",
        client.AppsV1Api,
        "namespaced_controller_revision",
        lambda ns: {"revision": 1, "data": {"spec": {"template": _pod_template("cr")}}},
    ),
    Kind("jobs", client.BatchV1Api, "namespaced_job", lambda ns: {"spec": _job_spec("job")}),
    Kind(
        "cronjobs",
        client.BatchV1Api,
        "namespaced_cron_job",
        lambda ns: {"spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": _job_spec("cj")}}},
    ),
    Kind(
        "endpointslices",
        client.DiscoveryV1Api,
        "namespaced_endpoint_slice",
        lambda ns: {
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"]}],
            "ports": [{"port": 80}],
        },
    ),
    Kind(
        "storageclasses",
        client.StorageV1Api,
        "storage_class",
        lambda ns: {"provisioner": "example.com/tested"},
        namespaced=False,
    ),
    Kind(
        "leases",
        client.CoordinationV1Api,
        "namespaced_lease",
        lambda ns: {"spec": {"holderIdentity": "tester", "leaseDurationSeconds": 15}},
    ),
    Kind(
        "events",
        client.EventsV1Api,
        "namespaced_event",
        lambda ns: {
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "reportingController": "example.com/tester",
            "reportingInstance": "tester-1",
            "action": "Testing",
            "reason": "Tested",
            "type": "Normal",
            "note": "a new-style event",
            "regarding": {"kind": "Pod", "name": "p", "namespace": ns},
        },
    ),
    Kind(
        "poddisruptionbudgets",
        client.PolicyV1Api,
        "namespaced_pod_disruption_budget",
        lambda ns: {"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "pdb"}}}},
    ),
)


@dataclass
class Bound:
    """One kind's typed methods with its name (and namespace, when namespaced) filled in."""

    kind: Kind
    api: Any
    namespace: str

    def scope(self) -> tuple[str, ...]:
        return (self.namespace,) if self.kind.namespaced else ()

    def call(self, verb: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.api, f"{verb}_{self.kind.stem}")(*args, **kwargs)

    def create(self, body: dict[str, Any]) -> Any:
        return self.call("create", *self.scope(), body)

    def read(self, name: str) -> Any:
        return self.call("read", name, *self.scope())

    def list_method(self) -> Callable[..., Any]:
        method: Callable[..., Any] = getattr(self.api, f"list_{self.kind.stem}")
        return method

    def list(self, **kwargs: Any) -> Any:
        return self.list_method()(*self.scope(), **kwargs)

    def patch(self, name: str, body: dict[str, Any]) -> Any:
        return self.call("patch", name, *self.scope(), body, _content_type=self.kind.patch_type)

    def replace(self, name: str, body: Any) -> Any:
        return self.call("replace", name, *self.scope(), body)

    def delete(self, name: str, **kwargs: Any) -> Any:
        return self.call("delete", name, *self.scope(), **kwargs)


def _namespace_for(kind: Kind) -> str:
    return f"kinds-{kind.api.__name__.removesuffix('Api').lower()}-{kind.plural}"


def _make_namespace(api_client: Any, name: str) -> None:
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": name}})


def _finish_namespace_deletion(api_client: Any, name: str) -> None:
    """No namespace controller runs here: empty the finalizers as it would once the namespace is empty."""
    core = client.CoreV1Api(api_client)
    terminating = core.read_namespace(name)
    assert terminating.status.phase == "Terminating"
    terminating.spec.finalizers = []
    core.replace_namespace_finalize(name, terminating)


# Kinds admission gives a protection finalizer, which only their controllers (not running here) remove.
_PROTECTED = ("persistentvolumes", "persistentvolumeclaims")


def _finish_protected_deletion(bound: Bound, name: str) -> None:
    """Remove the finalizer as the pv-/pvc-protection controller would once nothing uses the object."""
    lingering = bound.read(name)
    assert lingering.metadata.deletion_timestamp is not None
    lingering.metadata.finalizers = []
    bound.replace(name, lingering)


def _status_code(call: Callable[[], Any]) -> int:
    with pytest.raises(client.ApiException) as failed:
        call()
    status: int = failed.value.status
    return status


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_crud_watch_patch_replace_delete(api_client: Any, kind: Kind) -> None:
    namespace = _namespace_for(kind)
    name = f"{kind.plural}-obj"
    if kind.namespaced:
        _make_namespace(api_client, namespace)
    bound = Bound(kind, kind.api(api_client), namespace)
    labels = {SUITE_LABEL: kind.plural, "stage": "created"}

    created = bound.create({"metadata": {"name": name, "labels": labels}, **kind.body(namespace)})
    assert (
        created.metadata.name == name
        and created.metadata.uid
        and created.metadata.labels.items() >= labels.items()
    )
    assert created.metadata.namespace == (namespace if kind.namespaced else None)

    read = bound.read(name)
    assert type(read) is type(created)
    assert (read.metadata.uid, read.metadata.resource_version) == (
        created.metadata.uid,
        created.metadata.resource_version,
    )

    listed = bound.list(label_selector=f"{SUITE_LABEL}={kind.plural},stage=created")
    assert [item.metadata.name for item in listed.items] == [name]
    assert bound.list(label_selector=f"{SUITE_LABEL}={kind.plural},stage=other").items == []

    patched = bound.patch(name, {"metadata": {"labels": {"stage": "patched"}}})
    assert patched.metadata.labels.items() >= {SUITE_LABEL: kind.plural, "stage": "patched"}.items()
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)

    # Started from the list's revision, the watch replays what followed it: the patch, typed like a read.
    seen: list[tuple[str, str, str]] = []
    stream = watch.Watch()
    for event in stream.stream(
        bound.list_method(),
        *bound.scope(),
        label_selector=f"{SUITE_LABEL}={kind.plural}",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=5,
    ):
        obj = event["object"]
        assert type(obj) is type(created)
        seen.append((event["type"], obj.metadata.name, obj.metadata.labels["stage"]))
        if event["type"] == "MODIFIED":
            stream.stop()
    assert seen == [("MODIFIED", name, "patched")]

    current = bound.read(name)
    current.metadata.labels["stage"] = "replaced"
    replaced = bound.replace(name, current)
    assert replaced.metadata.labels["stage"] == "replaced"
    assert int(replaced.metadata.resource_version) > int(current.metadata.resource_version)
    current.metadata.labels["stage"] = "stale"
    assert _status_code(lambda: bound.replace(name, current)) == 409  # carries the pre-replace revision

    # The answer's shape is test_delete_answers_what_the_client_expects's business: take it undecoded here.
    answer = bound.delete(name, _preload_content=False)
    answer.read()
    answer.release_conn()
    assert answer.status == 200
    if kind.plural == "namespaces":
        _finish_namespace_deletion(api_client, name)
    elif kind.plural in _PROTECTED:
        _finish_protected_deletion(bound, name)
    assert _status_code(lambda: bound.read(name)) == 404


_DELETE_PARAMS = [
    pytest.param(kind, id=str(kind))
    for kind in KINDS
    if kind.plural != "namespaces"  # a namespace lingers as Terminating, so its DELETE answers the namespace
]


@pytest.mark.parametrize("kind", _DELETE_PARAMS)
def test_delete_answers_what_the_client_expects(api_client: Any, kind: Kind) -> None:
    """The client types DELETE's answer as upstream's: the deleted object for some kinds, else a Status."""
    namespace = f"delete-{_namespace_for(kind).removeprefix('kinds-')}"
    if kind.namespaced:
        _make_namespace(api_client, namespace)
    bound = Bound(kind, kind.api(api_client), namespace)
    created = bound.create({"metadata": {"name": f"{kind.plural}-gone"}, **kind.body(namespace)})

    deleted = bound.delete(created.metadata.name)
    if inspect.signature(getattr(bound.api, f"delete_{kind.stem}")).return_annotation is object:
        assert deleted["kind"] == "Status" and deleted["status"] == "Success"
        assert deleted["details"]["name"] == created.metadata.name
        assert deleted["details"]["uid"] == created.metadata.uid
    else:
        assert type(deleted) is type(created) and deleted.metadata.uid == created.metadata.uid


def _kind(plural: str, api: type[Any]) -> Kind:
    return next(k for k in KINDS if k.plural == plural and k.api is api)


SCALED = (
    ("deployments", client.AppsV1Api),
    ("replicasets", client.AppsV1Api),
    ("statefulsets", client.AppsV1Api),
    ("replicationcontrollers", client.CoreV1Api),
)


@pytest.mark.parametrize(("plural", "api"), SCALED, ids=[plural for plural, _ in SCALED])
def test_scale_subresource(api_client: Any, plural: str, api: type[Any]) -> None:
    kind = _kind(plural, api)
    namespace = f"scale-{plural}"
    _make_namespace(api_client, namespace)
    bound = Bound(kind, kind.api(api_client), namespace)
    body = kind.body(namespace)
    body["spec"]["replicas"] = 1
    bound.create({"metadata": {"name": "scaled"}, **body})

    scale = getattr(bound.api, f"read_{kind.stem}_scale")("scaled", namespace)
    assert isinstance(scale, client.V1Scale)
    assert (scale.metadata.name, scale.metadata.namespace, scale.spec.replicas) == ("scaled", namespace, 1)

    patched = getattr(bound.api, f"patch_{kind.stem}_scale")(
        "scaled", namespace, {"spec": {"replicas": 3}}, _content_type=MERGE
    )
    assert patched.spec.replicas == 3
    assert bound.read("scaled").spec.replicas == 3

    patched.spec.replicas = 2
    replaced = getattr(bound.api, f"replace_{kind.stem}_scale")("scaled", namespace, patched)
    assert replaced.spec.replicas == 2
    parent = bound.read("scaled")
    assert parent.spec.replicas == 2 and parent.metadata.generation == 3


# Kind, a status patch and how to read back what it set.
STATUS_CASES: tuple[tuple[str, type[Any], dict[str, Any], Callable[[Any], Any], Any], ...] = (
    ("deployments", client.AppsV1Api, {"replicas": 1, "observedGeneration": 1}, lambda s: s.replicas, 1),
    ("replicasets", client.AppsV1Api, {"replicas": 1, "readyReplicas": 1}, lambda s: s.ready_replicas, 1),
    (
        "statefulsets",
        client.AppsV1Api,
        {"replicas": 1, "currentReplicas": 1},
        lambda s: s.current_replicas,
        1,
    ),
    (
        "daemonsets",
        client.AppsV1Api,
        {"currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberMisscheduled": 0, "numberReady": 1},
        lambda s: s.number_ready,
        1,
    ),
    ("jobs", client.BatchV1Api, {"active": 1}, lambda s: s.active, 1),
    ("persistentvolumeclaims", client.CoreV1Api, {"phase": "Bound"}, lambda s: s.phase, "Bound"),
)


@pytest.mark.parametrize(
    ("plural", "api", "status", "observe", "expected"), STATUS_CASES, ids=[c[0] for c in STATUS_CASES]
)
def test_status_subresource(
    api_client: Any,
    plural: str,
    api: type[Any],
    status: dict[str, Any],
    observe: Callable[[Any], Any],
    expected: Any,
) -> None:
    kind = _kind(plural, api)
    namespace = f"status-{plural}"
    _make_namespace(api_client, namespace)
    bound = Bound(kind, kind.api(api_client), namespace)
    created = bound.create({"metadata": {"name": "st", "labels": {"a": "b"}}, **kind.body(namespace)})

    # A status write changes status alone: the label in the same body is dropped.
    patched = getattr(bound.api, f"patch_{kind.stem}_status")(
        "st", namespace, {"metadata": {"labels": {"a": "ignored"}}, "status": status}, _content_type=MERGE
    )
    assert observe(patched.status) == expected
    assert (
        patched.metadata.labels == {"a": "b"} and patched.metadata.generation == created.metadata.generation
    )
    assert observe(getattr(bound.api, f"read_{kind.stem}_status")("st", namespace).status) == expected

    # ...and a main-resource write leaves status alone, even one that would clear it.
    relabelled = bound.patch("st", {"metadata": {"labels": {"a": "c"}}, "status": None})
    assert relabelled.metadata.labels == {"a": "c"} and observe(relabelled.status) == expected

    # Read-modify-write through the status subresource: labels dropped again, the revision guarded.
    replace_status = getattr(bound.api, f"replace_{kind.stem}_status")
    relabelled.metadata.labels["a"] = "d"
    replaced = replace_status("st", namespace, relabelled)
    assert replaced.metadata.labels == {"a": "c"} and observe(replaced.status) == expected
    assert _status_code(lambda: replace_status("st", namespace, patched)) == 409


def test_every_served_kind_is_covered() -> None:
    """The parametrisation above tracks the server's resource table (a new kind must be added here)."""
    served = {(r.group, r.plural) for r in RESOURCES if "create" in r.verbs and "get" in r.verbs}
    groups = {
        client.CoreV1Api: "",
        client.AppsV1Api: "apps",
        client.BatchV1Api: "batch",
        client.DiscoveryV1Api: "discovery.k8s.io",
        client.StorageV1Api: "storage.k8s.io",
        client.CoordinationV1Api: "coordination.k8s.io",
        client.EventsV1Api: "events.k8s.io",
        client.PolicyV1Api: "policy",
    }
    assert {(groups[k.api], k.plural) for k in KINDS} == served
