"""What the pod loop asks of the volume manager."""

from __future__ import annotations

from typing import Any, Protocol

from kubelite.agent.runtime.types import Mount

JSON = dict[str, Any]


class VolumeError(Exception):
    """A volume cannot be set up (a missing ConfigMap, a hostPath of the wrong type, ...).

    The pod stays ContainerCreating and a FailedMount event carries the message, as the kubelet's do:
    `MountVolume.SetUp failed for volume "cfg" : configmap "app" not found`.
    """

    def __init__(self, message: str, *, reason: str = "FailedMount") -> None:
        super().__init__(message)
        self.reason = reason


class ConfigError(Exception):
    """A container's env cannot be built (missing key, missing ConfigMap, ...): CreateContainerConfigError."""


class VolumeManager(Protocol):
    """kubelite.agent.volumes.manager.Volumes implements this."""

    async def setup(self, pod: JSON) -> None:
        """Make every volume of the pod ready on the node (idempotent; re-writes projected contents)."""
        ...

    def container_mounts(self, pod: JSON, container: JSON) -> list[Mount]:
        """The OCI mounts for one container's volumeMounts (subPath, readOnly), after setup()."""
        ...

    async def refresh(self, pod: JSON) -> None:
        """Re-write configMap/secret/downwardAPI/projected contents that changed (not subPath mounts)."""
        ...

    async def teardown(self, pod_uid: str) -> None:
        """Unmount and delete everything of the pod (tmpfs for secrets included). Idempotent."""
        ...

    async def disk_usage(self, pod_uid: str, volume: str) -> int:
        """Bytes an emptyDir on disk holds (for sizeLimit eviction)."""
        ...

    def pods_on_disk(self) -> list[str]:
        """Pod UIDs that have volume directories here (for removing leftovers)."""
        ...
