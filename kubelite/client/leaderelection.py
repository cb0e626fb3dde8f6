"""Leader election on a coordination.k8s.io/v1 Lease, so two servers never run the same controllers at once.

The rules (client-go's):
- Whoever holds the Lease renews it every `retry_period`. Writes are compare-and-swap on resourceVersion, so
  of two racing candidates exactly one wins.
- A candidate takes the Lease only when it is free (no holder: released) or expired. Expiry is judged on the
  candidate's own monotonic clock: `lease_duration` after it last *saw the record change*, never by comparing
  the holder's renewTime with local wall time, so clock skew between machines cannot cause two leaders.
- A leader that has not renewed for `renew_deadline` (< lease_duration) stops leading on its own, before any
  candidate can consider the Lease expired.
- On shutdown the leader releases the Lease (empties holderIdentity), so a successor takes over at once.

    elector = LeaderElector(LeaseLock(client, namespace="kube-system", name="kubelite-controllers"),
                            identity=hostname)
    await elector.run(run_controllers, on_stopped_leading=...)   # returns when leadership is lost
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, Protocol

from kubelite.client import errors, paths
from kubelite.client.rest import JSON, RestClient

log = logging.getLogger(__name__)

LEASES = paths.resource("coordination.k8s.io", "v1", "leases")
_JITTER = 1.2


def micro_time(when: datetime.datetime) -> str:
    """metav1.MicroTime on the wire."""
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class LeaderElectionConfig:
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        if not self.lease_duration > self.renew_deadline > self.retry_period * _JITTER > 0:
            raise ValueError("need lease_duration > renew_deadline > 1.2 * retry_period > 0")


@dataclass(frozen=True)
class LeaseRecord:
    holder_identity: str
    lease_duration_seconds: int
    acquire_time: str | None = None
    renew_time: str | None = None
    lease_transitions: int = 0

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> LeaseRecord:
        return cls(
            holder_identity=spec.get("holderIdentity") or "",
            lease_duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
            acquire_time=spec.get("acquireTime"),
            renew_time=spec.get("renewTime"),
            lease_transitions=int(spec.get("leaseTransitions") or 0),
        )

    def to_spec(self) -> JSON:
        return {
            "holderIdentity": self.holder_identity,
            "leaseDurationSeconds": self.lease_duration_seconds,
            "acquireTime": self.acquire_time,
            "renewTime": self.renew_time,
            "leaseTransitions": self.lease_transitions,
        }


class Lock(Protocol):
    """Where the record lives. get → (record, resourceVersion) or None when absent; create/update raise
    kubelite.client errors (Conflict / AlreadyExists when another candidate wrote first)."""

    async def get(self) -> tuple[LeaseRecord, str] | None: ...

    async def create(self, record: LeaseRecord) -> str: ...

    async def update(self, record: LeaseRecord, resource_version: str) -> str: ...


class LeaseLock:
    """A Lease object through the API server. Updates keep the Lease's other metadata (labels, owners)."""

    def __init__(self, client: RestClient, *, namespace: str, name: str) -> None:
        self.client, self.namespace, self.name = client, namespace, name
        self._metadata: JSON = {}

    def _lease(self, record: LeaseRecord, resource_version: str | None = None) -> JSON:
        meta: JSON = {**self._metadata, "name": self.name, "namespace": self.namespace}
        meta.pop("managedFields", None)
        if resource_version:
            meta["resourceVersion"] = resource_version
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": record.to_spec(),
        }

    def _remember(self, lease: JSON) -> str:
        self._metadata = lease.get("metadata") or {}
        return str(self._metadata["resourceVersion"])

    async def get(self) -> tuple[LeaseRecord, str] | None:
        try:
            lease = await self.client.get(LEASES, self.name, namespace=self.namespace)
        except errors.NotFound:
            return None
        return LeaseRecord.from_spec(lease.get("spec") or {}), self._remember(lease)

    async def create(self, record: LeaseRecord) -> str:
        return self._remember(await self.client.create(LEASES, self._lease(record)))

    async def update(self, record: LeaseRecord, resource_version: str) -> str:
        return self._remember(await self.client.update(LEASES, self._lease(record, resource_version)))


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime.datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class LeaderElector:
    def __init__(
        self,
        lock: Lock,
        *,
        identity: str,
        config: LeaderElectionConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not identity:
            raise ValueError("a leader elector needs an identity")
        self.lock = lock
        self.identity = identity
        self.config = config or LeaderElectionConfig()
        self.clock: Clock = clock or SystemClock()
        self.leading = False
        self._observed: LeaseRecord | None = None
        self._observed_version = ""
        self._observed_at = 0.0

    @property
    def leader(self) -> str:
        """The holder as last seen ("" when unknown or released)."""
        return self._observed.holder_identity if self._observed else ""

    def _observe(self, record: LeaseRecord, resource_version: str) -> None:
        if record != self._observed:
            self._observed_at = self.clock.monotonic()
        self._observed, self._observed_version = record, resource_version

    async def try_acquire_or_renew(self) -> bool:
        """One attempt to take or keep the Lease; True when we hold it afterwards."""
        now = micro_time(self.clock.now())
        duration = max(1, round(self.config.lease_duration))
        try:
            current = await self.lock.get()
            if current is None:
                record = LeaseRecord(self.identity, duration, acquire_time=now, renew_time=now)
                self._observe(record, await self.lock.create(record))
                return True
            record, version = current
            self._observe(record, version)
            ours = record.holder_identity == self.identity
            expires_at = self._observed_at + record.lease_duration_seconds
            if record.holder_identity and not ours and expires_at > self.clock.monotonic():
                return False
            if ours:
                wanted = replace(record, lease_duration_seconds=duration, renew_time=now)
            else:
                transitions = record.lease_transitions + 1
                wanted = LeaseRecord(self.identity, duration, now, now, transitions)
            self._observe(wanted, await self.lock.update(wanted, version))
            return True
        except errors.ClientError as exc:
            log.debug("%s: lease attempt failed: %s", self.identity, exc)
            return False

    async def release(self) -> None:
        """Give the Lease up if we hold it, so a successor need not wait for it to expire."""
        if self._observed is None or self._observed.holder_identity != self.identity:
            return
        now = micro_time(self.clock.now())
        released = LeaseRecord("", 1, now, now, self._observed.lease_transitions)
        try:
            async with asyncio.timeout(self.config.renew_deadline):  # shutdown must not hang on it
                self._observe(released, await self.lock.update(released, self._observed_version))
        except (errors.ClientError, TimeoutError) as exc:
            log.warning("%s: could not release the lease: %r", self.identity, exc)

    async def run(
        self,
        on_started_leading: Callable[[], Coroutine[Any, Any, None]],
        *,
        on_stopped_leading: Callable[[], None] | None = None,
    ) -> None:
        """Wait to become leader, then run `on_started_leading()` while renewing. Returns when leadership is
        lost or that coroutine ends (its exception propagates); cancel to stop. Whenever leading ended, the
        leading task is cancelled first, then `on_stopped_leading()` runs, then the Lease is released (unless
        the config says not to)."""
        started = False
        try:
            acquired_at = await self._acquire()
            started = self.leading = True
            log.info("%s: became leader", self.identity)
            leading = asyncio.create_task(on_started_leading())
            try:
                await self._renew_until_lost(leading, renewed_at=acquired_at)
            finally:
                leading.cancel()
                await asyncio.wait([leading])
            if not leading.cancelled():
                leading.result()  # the leader's work ended by itself: re-raise its error, if any
        finally:
            self.leading = False
            if started and on_stopped_leading is not None:
                on_stopped_leading()
            if started and self.config.release_on_cancel:
                await self.release()

    async def _acquire(self) -> float:
        """Retry until we hold the Lease; returns when the winning attempt started (the lease's clock for
        us starts no later than that)."""
        while True:
            started = self.clock.monotonic()
            if await self._attempt(self.config.renew_deadline):
                return started
            await self.clock.sleep(self.config.retry_period * random.uniform(1.0, _JITTER))

    async def _attempt(self, within: float) -> bool:
        """try_acquire_or_renew, bounded: a hung request must not outlive the renew deadline."""
        try:
            async with asyncio.timeout(within):
                return await self.try_acquire_or_renew()
        except TimeoutError:
            return False

    async def _renew_until_lost(self, leading: asyncio.Task[None], *, renewed_at: float) -> None:
        while True:
            sleeper = asyncio.ensure_future(self.clock.sleep(self.config.retry_period))
            try:
                await asyncio.wait([leading, sleeper], return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
            if leading.done():
                return
            attempt_started = self.clock.monotonic()
            left = renewed_at + self.config.renew_deadline - attempt_started
            if left > 0 and await self._attempt(left):
                renewed_at = attempt_started
            elif (unrenewed := self.clock.monotonic() - renewed_at) >= self.config.renew_deadline:
                log.warning("%s: could not renew the lease for %.1fs; stopping", self.identity, unrenewed)
                return
