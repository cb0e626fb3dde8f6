"""Image pulls for the pod loop: pull policy, the kubelet's events, ErrImagePull → ImagePullBackOff, and the
offline fallback to a local copy when the registry cannot be reached."""

from __future__ import annotations

import time

from kubelite.agent.images.reference import InvalidImageName, parse_reference
from kubelite.agent.images.registry import RegistryError, RegistryUnreachable
from kubelite.agent.images.store import ImageNeverPullError, ImageRecord, PullPolicy
from kubelite.agent.pods.backoff import Backoff
from kubelite.agent.pods.types import JSON, Images, Waiting
from kubelite.client.events import EventRecorder

WARNING = "Warning"


def pull_policy(container: JSON) -> PullPolicy:
    """The container's imagePullPolicy, defaulted as the API server does: Always for :latest or no tag."""
    if policy := container.get("imagePullPolicy"):
        return PullPolicy(policy)
    image = container.get("image") or ""
    try:
        ref = parse_reference(image)
    except InvalidImageName:
        return PullPolicy.IF_NOT_PRESENT
    return (
        PullPolicy.ALWAYS if ref.digest is None and ref.tag in (None, "latest") else PullPolicy.IF_NOT_PRESENT
    )


def _took(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.3f}s"


class ImagePuller:
    def __init__(self, images: Images, recorder: EventRecorder, backoff: Backoff, *, strict: bool) -> None:
        self.images = images
        self.recorder = recorder
        self.backoff = backoff
        self.strict = strict
        self._errors: dict[str, str] = {}  # back-off key -> the last pull failure, for the waiting message

    def _event(self, pod: JSON, reason: str, message: str, event_type: str = "Normal") -> None:
        self.recorder.record(pod, reason=reason, message=message, event_type=event_type)

    async def ensure(self, pod: JSON, container: JSON) -> ImageRecord:
        """The container's image, present on the node; raises Waiting with the kubelet's reason otherwise."""
        image = container.get("image") or ""
        try:
            parse_reference(image)
        except InvalidImageName as exc:
            message = f'Failed to apply default image tag "{image}": {exc}'
            self._event(pod, "InspectFailed", message, WARNING)
            raise Waiting("InvalidImageName", message) from exc
        policy = pull_policy(container)
        present = self.images.get(image)
        if policy is PullPolicy.NEVER or (policy is PullPolicy.IF_NOT_PRESENT and present is not None):
            if present is None:
                message = f'Container image "{image}" is not present with pull policy of Never'
                self._event(pod, "ErrImageNeverPull", message, WARNING)
                raise Waiting("ErrImageNeverPull", message)
            self._event(pod, "Pulled", f'Container image "{image}" already present on machine')
            return present
        key = f"{pod['metadata'].get('uid', '')}/{image}"
        if self.backoff.remaining_since_update(key) > 0:
            self._event(pod, "BackOff", f'Back-off pulling image "{image}"')
            self._event(pod, "Failed", "Error: ImagePullBackOff", WARNING)
            last = self._errors.get(key, "")
            raise Waiting("ImagePullBackOff", f'Back-off pulling image "{image}": ErrImagePull: {last}')
        self._event(pod, "Pulling", f'Pulling image "{image}"')
        started = time.monotonic()
        try:
            record = await self.images.pull(image, policy)
        except ImageNeverPullError as exc:  # pragma: no cover - the NEVER branch above answers first
            raise Waiting("ErrImageNeverPull", str(exc)) from exc
        except RegistryUnreachable as exc:
            if present is not None and not self.strict:
                self._event(
                    pod,
                    "PullFallback",
                    f'registry unreachable; using the local copy of "{image}": {exc}',
                    WARNING,
                )
                return present
            raise self._failed(pod, key, image, exc) from exc
        except (RegistryError, OSError) as exc:
            raise self._failed(pod, key, image, exc) from exc
        took = _took(time.monotonic() - started)
        self.backoff.forget_prefix(key)
        self._errors.pop(key, None)
        self._event(
            pod,
            "Pulled",
            f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
            f"Image size: {record.size} bytes.",
        )
        return record

    def _failed(self, pod: JSON, key: str, image: str, exc: Exception) -> Waiting:
        message = f'Failed to pull image "{image}": {exc}'
        self._errors[key] = message
        self.backoff.next(key, self.backoff.clock())
        self._event(pod, "Failed", message, WARNING)
        self._event(pod, "Failed", "Error: ErrImagePull", WARNING)
        return Waiting("ErrImagePull", message)
