"""One real API server per test module, and a kubectl bound to a namespace of its own per test.

Starting a server costs about a second and kubectl calls are cheap, so an end-to-end module shares one
server (the integration suite's `start_server`) and keeps its tests apart by namespace instead. It is the API
server alone: no controllers run, so nothing garbage-collects or finishes terminating namespaces behind the
tests' backs, and each test namespace gets the `default` ServiceAccount from the fixture, as a cluster's
controller would give it.

    def test_something(kubectl: Kubectl) -> None:
        kubectl("get", "pods")                     # runs in this test's namespace, raises on failure
        kubectl.run("get", "pods", check=False)    # CompletedProcess, for tests that expect a failure
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.integration.apiserver.conftest import KUBECTL, RunningServer, start_server, stop_server


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server shared by the tests of one module (watch bookmarks every second, as in integration)."""
    server, thread = start_server(
        tmp_path_factory.mktemp("apiserver") / "data", watch_bookmark_interval=1.0, shutdown_timeout=1.0
    )
    try:
        yield server
    finally:
        stop_server(server, thread)


@dataclass
class Kubectl:
    """The real kubectl against `server`, in `namespace` (none: each object's own) unless the arguments name
    another (-n/-A)."""

    server: RunningServer
    namespace: str
    env: dict[str, str] = field(default_factory=dict)

    def _namespace_args(self) -> list[str]:
        return ["--namespace", self.namespace] if self.namespace else []

    def run(
        self, *args: str, input: str | None = None, timeout: float = 30, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        if KUBECTL is None:
            pytest.skip("kubectl is not installed")
        proc = subprocess.run(
            [KUBECTL, *self._namespace_args(), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**self.server.kubectl_env(), **self.env},
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def __call__(self, *args: str, input: str | None = None, timeout: float = 30) -> str:
        """stdout of a command that must succeed."""
        return self.run(*args, input=input, timeout=timeout, check=True).stdout

    def popen(self, *args: str) -> subprocess.Popen[str]:
        if KUBECTL is None:
            pytest.skip("kubectl is not installed")
        return subprocess.Popen(
            [KUBECTL, *self._namespace_args(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**self.server.kubectl_env(), **self.env},
        )


def namespace_for(node_name: str) -> str:
    """A valid, readable namespace name (DNS label) derived from a test's name."""
    name = re.sub(r"[^a-z0-9-]+", "-", node_name.lower().removeprefix("test_")).strip("-")
    return name[:63].rstrip("-") or "test"


def default_service_account(namespace: str) -> str:
    """The ServiceAccount a cluster's controller adds to every namespace (pods run as it)."""
    return f"apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default, namespace: {namespace}}}"


def namespace_manifest(*namespaces: str) -> str:
    """Namespaces, each with its `default` ServiceAccount."""
    return "\n---\n".join(
        f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {n}}}\n---\n{default_service_account(n)}"
        for n in namespaces
    )


@pytest.fixture
def kubectl(apiserver: RunningServer, request: pytest.FixtureRequest) -> Iterator[Kubectl]:
    """kubectl in a fresh namespace named after the test, deleted afterwards (without waiting)."""
    namespace = namespace_for(request.node.name)
    bound = Kubectl(apiserver, namespace)
    bound("create", "-f", "-", input=namespace_manifest(namespace))
    yield bound
    bound.run("delete", "namespace", namespace, "--wait=false")
