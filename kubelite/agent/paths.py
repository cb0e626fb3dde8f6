"""Where a node agent keeps things: one directory tree per agent, so several agents can share a host.

    <root>/images/                       the image store (kubelite.agent.images.store); archives dropped
                                         here as *.tar are imported
    <root>/containers/<container-id>/    OCI bundle: config.json, rootfs (overlay), monitor files
    <root>/run/<runtime>/                the OCI runtime's state (--root)
    <root>/pods/<pod-uid>/               per-pod files: etc-hosts, resolv.conf, hostname, volumes/
    <root>/logs/<ns>_<pod>_<uid>/<container>/<attempt>.log    CRI-format container logs
    <root>/cni/                          CNI IPAM state and the generated network config
    <root>/pki/                          the agent's serving certificate
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

CGROUP_PARENT = "/kubelite"


@dataclass(frozen=True)
class NodePaths:
    root: Path  # <data-dir>/agent
    node_name: str

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def containers(self) -> Path:
        return self.root / "containers"

    def runtime_state(self, runtime: str) -> Path:
        return self.root / "run" / runtime

    @property
    def pods(self) -> Path:
        return self.root / "pods"

    def pod(self, pod_uid: str) -> Path:
        return self.pods / pod_uid

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def pod_logs(self, namespace: str, name: str, pod_uid: str) -> Path:
        return self.logs / f"{namespace}_{name}_{pod_uid}"

    def container_log(self, namespace: str, name: str, pod_uid: str, container: str, attempt: int) -> Path:
        return self.pod_logs(namespace, name, pod_uid) / container / f"{attempt}.log"

    @property
    def cni(self) -> Path:
        return self.root / "cni"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def cgroup_tag(self) -> str:
        """The data dir's part of the cgroup root's name: `<CGROUP_PARENT>/*-<tag>` are this dir's nodes."""
        # The resolved path: `./data` and `/srv/data` typed for the same dir must name the same cgroups.
        return hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:8]

    @property
    def cgroup_root(self) -> str:
        """The cgroup every pod of this agent lives under (absolute, the same in every v1 hierarchy).

        Named by node and data dir: two agents on one host never take each other's pods for leftovers,
        even under one node name (two clusters' nodes named after the same host)."""
        return f"{CGROUP_PARENT}/{self.node_name}-{self.cgroup_tag}"

    def pod_cgroup(self, pod_uid: str) -> str:
        return f"{self.cgroup_root}/pod{pod_uid}"
