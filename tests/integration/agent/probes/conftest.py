"""Probe and node-status integration tests: the real API server, network namespaces of their own, and the
real OciRuntime fixtures (crun under conmon, built-in busybox) for exec probes and hooks."""

from __future__ import annotations

from tests.integration.agent.runtime.conftest import busybox as busybox
from tests.integration.agent.runtime.conftest import make_spec as make_spec
from tests.integration.agent.runtime.conftest import node_paths as node_paths
from tests.integration.agent.runtime.conftest import prepared_host as prepared_host
from tests.integration.agent.runtime.conftest import runtime as runtime
from tests.integration.agent.runtime.conftest import runtimes as runtimes
from tests.integration.apiserver.conftest import apiserver as apiserver
