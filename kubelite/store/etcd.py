"""The etcd driver (`etcd://HOST:PORT[,HOST:PORT...]`): each store call is one etcd v3 request.

etcd already has the store's model (one global revision, mod_revision per key, compaction, leases), so
the driver only translates: writes are transactions comparing create/mod_revision, deletes return
prev_kv, TTL keys ride on leases. It talks to etcd through aetcd's generated gRPC stubs rather than its
high-level client, which cannot read at a revision, page with a limit, or tell why a transaction
failed, and adds per-call overhead. One channel carries every call and every watch stream.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections.abc import Sequence
from typing import Any

from aetcd import rpc

from kubelite.store import broadcast
from kubelite.store.base import (
    AlreadyExists,
    Conflict,
    Expired,
    FutureRevision,
    KeyValue,
    ListResult,
    NotFound,
    StoreError,
    Unavailable,
    Watch,
)
from kubelite.store.compactor import Compactor
from kubelite.store.etcd_watch import EtcdWatch, key_value

_CHANNEL_OPTIONS = (
    # Reconnect soon after etcd comes back (gRPC's default backoff grows to two minutes).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    # Notice a silently dead connection under a long-lived watch (etcd allows pings every 5 s or slower).
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    # A list of a large collection is one response; etcd itself bounds requests, not responses.
    ("grpc.max_receive_message_length", -1),
)
_CONNECT_RETRY = 0.1  # seconds between attempts to reach etcd at open
_FUTURE_REVISION_WAIT = 1.5  # seconds a read at a revision ahead of etcd waits for it to arrive
_FUTURE_REVISION_POLL = 0.05
_COMPACT_PROBE_TIMEOUT = 1.0
_LEASE_REUSE_MAX = 60  # seconds: TTL keys created within this window share one lease
_EQUAL = rpc.Compare.EQUAL
_REVISION_READ = rpc.RangeRequest(key=b"\0", count_only=True)  # cheapest read; its header has the revision


def _prefix_range(prefix: str) -> tuple[bytes, bytes]:
    """etcd's [key, range_end) for the keys starting with `prefix`. UTF-8 has no 0xff byte, so the end is
    the prefix with its last byte bumped. An empty prefix is every key: etcd rejects an empty key, and
    range_end b"\\0" means "to the end"."""
    start = prefix.encode()
    if not start:
        return b"\0", b"\0"
    return start, start[:-1] + bytes([start[-1] + 1])


def _grpc_target(endpoints: Sequence[str]) -> str:
    hosts = [e.strip().rstrip("/").rpartition("://")[2] for e in endpoints if e.strip()]
    if not hosts:
        raise Unavailable("no etcd endpoint given: want etcd://HOST:PORT[,HOST:PORT...]")
    if len(hosts) == 1:
        return hosts[0]
    # Several members: gRPC's static resolver fails over between them; it takes IPv4 literals only.
    for host in hosts:
        try:
            ipaddress.IPv4Address(host.rpartition(":")[0])
        except ValueError:
            raise Unavailable(f"with several etcd endpoints each must be IPV4:PORT, not {host!r}") from None
    return "ipv4:" + ",".join(hosts)


def _error(exc: Any, what: str) -> StoreError:
    if exc.code() in (rpc.StatusCode.UNAVAILABLE, rpc.StatusCode.DEADLINE_EXCEEDED, rpc.StatusCode.CANCELLED):
        return Unavailable(f"etcd unavailable during {what}: {exc.details()}")
    return StoreError(f"etcd {exc.code().name} during {what}: {exc.details()}")


def _is_compacted(exc: Any) -> bool:
    return bool(exc.code() == rpc.StatusCode.OUT_OF_RANGE and "compacted" in exc.details())


def _is_future(exc: Any) -> bool:
    return bool(exc.code() == rpc.StatusCode.OUT_OF_RANGE and "future" in exc.details())


class EtcdStore:
    """The store on an etcd v3 cluster. Open it with `await EtcdStore.open(["HOST:PORT", ...])`."""

    def __init__(self, channel: Any, *, request_timeout: float) -> None:
        self._channel = channel
        self._kv = rpc.KVStub(channel)
        self._leases = rpc.LeaseStub(channel)
        self._watch_stub = rpc.WatchStub(channel)
        self._timeout = request_timeout
        self._watches: set[EtcdWatch] = set()
        self._reusable_leases: dict[int, tuple[int, float]] = {}  # TTL seconds -> (lease id, granted at)
        # The newest revision any response showed, so at or after every write this process has made:
        # where a watch "from now" starts.
        self._seen_revision = 0
        # The newest compaction known here: etcd's "compacted" read error does not say which revision.
        self._compact_revision = 0
        self._compactor: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    async def open(
        cls,
        endpoints: Sequence[str],
        *,
        connect_timeout: float = 3.0,
        request_timeout: float = 15.0,
    ) -> EtcdStore:
        channel = rpc.insecure_channel(_grpc_target(endpoints), options=_CHANNEL_OPTIONS)
        store = cls(channel, request_timeout=request_timeout)
        try:
            await store._first_read(",".join(endpoints), connect_timeout)
        except BaseException:
            await channel.close()
            raise
        # Like the SQLite driver, the store keeps its own history bounded (idempotent if several servers do).
        store._compactor = asyncio.create_task(Compactor(store).run(), name="etcd-compactor")
        return store

    async def _first_read(self, endpoint: str, within: float) -> None:
        """Read the revision, retrying refused connections (etcd may be starting) for `within` seconds."""
        give_up_at = time.monotonic() + within
        while True:
            try:
                response = await self._kv.Range(
                    _REVISION_READ, timeout=max(give_up_at - time.monotonic(), _CONNECT_RETRY)
                )
                self._seen(response.header)
                return
            except rpc.AioRpcError as exc:
                retry = exc.code() == rpc.StatusCode.UNAVAILABLE
                if not retry or time.monotonic() + _CONNECT_RETRY >= give_up_at:
                    raise Unavailable(
                        f"etcd at {endpoint} is not reachable within {within:g}s: {exc.details()}"
                    ) from exc
            await asyncio.sleep(_CONNECT_RETRY)

    def _seen(self, header: Any) -> int:
        revision = int(header.revision)
        if revision > self._seen_revision:
            self._seen_revision = revision
        return revision

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("the etcd store is closed")

    async def _call(self, method: Any, request: Any, what: str) -> Any:
        """One unary request. Like etcd's own client it waits for the channel to be connected, so an etcd
        restart or leader change delays requests rather than failing them; the timeout bounds the wait."""
        self._check_open()
        try:
            return await method(request, timeout=self._timeout, wait_for_ready=True)
        except rpc.AioRpcError as exc:
            raise _error(exc, what) from exc

    async def get(self, key: str) -> KeyValue:
        response = await self._call(self._kv.Range, rpc.RangeRequest(key=key.encode()), f"get {key}")
        self._seen(response.header)
        if not response.kvs:
            raise NotFound(key)
        return key_value(response.kvs[0])

    async def list(
        self, prefix: str, *, limit: int = 0, start_after: str = "", revision: int = 0
    ) -> ListResult:
        self._check_open()
        begin, end = _prefix_range(prefix)
        if start_after:
            begin = max(begin, start_after.encode() + b"\0")
        request = rpc.RangeRequest(key=begin, range_end=end, limit=limit, revision=revision)
        give_up_at = time.monotonic() + _FUTURE_REVISION_WAIT
        while True:
            try:
                response = await self._kv.Range(request, timeout=self._timeout, wait_for_ready=True)
                break
            except rpc.AioRpcError as exc:
                if _is_compacted(exc):
                    compacted = await self._learn_compact_revision()
                    raise Expired(f"too old resource version: {revision} ({compacted})", compacted) from exc
                if not _is_future(exc):
                    raise _error(exc, f"list {prefix}") from exc
                if time.monotonic() >= give_up_at:
                    current = await self.current_revision()
                    raise FutureRevision(
                        f"Too large resource version: {revision}, current: {current}", current
                    ) from exc
                await asyncio.sleep(_FUTURE_REVISION_POLL)
        read_at = self._seen(response.header)
        return ListResult([key_value(kv) for kv in response.kvs], revision or read_at, response.more)

    async def create(self, key: str, value: bytes, *, ttl: float | None = None) -> int:
        k = key.encode()
        lease = await self._lease(ttl) if ttl else 0
        txn = rpc.TxnRequest(
            compare=[rpc.Compare(key=k, target=rpc.Compare.CREATE, result=_EQUAL, create_revision=0)],
            success=[rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value, lease=lease))],
        )
        response = await self._call(self._kv.Txn, txn, f"create {key}")
        if not response.succeeded:
            raise AlreadyExists(key)
        return self._seen(response.header)

    async def update(
        self, key: str, value: bytes, *, expected_revision: int, ttl: float | None = None
    ) -> int:
        k = key.encode()
        lease = await self._lease(ttl) if ttl else 0
        put = rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value, lease=lease))
        response = await self._call(self._kv.Txn, self._cas(k, expected_revision, put), f"update {key}")
        if not response.succeeded:
            self._raise_cas_failure(key, expected_revision, response)
        return self._seen(response.header)

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        k = key.encode()
        delete = rpc.DeleteRangeRequest(key=k, prev_kv=True)
        if expected_revision:
            response = await self._call(
                self._kv.Txn, self._cas(k, expected_revision, rpc.RequestOp(request_delete_range=delete)),
                f"delete {key}",
            )
            if not response.succeeded:
                self._raise_cas_failure(key, expected_revision, response)
            deleted = response.responses[0].response_delete_range.prev_kvs
        else:
            response = await self._call(self._kv.DeleteRange, delete, f"delete {key}")
            deleted = response.prev_kvs
        if not deleted:
            raise NotFound(key)
        prev = deleted[0]
        return KeyValue(key, prev.value, prev.create_revision, self._seen(response.header))

    @staticmethod
    def _cas(key: bytes, expected_revision: int, op: Any) -> Any:
        """A transaction running `op` if the key exists at `expected_revision`, else reading the key."""
        return rpc.TxnRequest(
            compare=[
                # An absent key has mod_revision 0, so existence is checked on its own.
                rpc.Compare(key=key, target=rpc.Compare.VERSION, result=rpc.Compare.GREATER, version=0),
                rpc.Compare(key=key, target=rpc.Compare.MOD, result=_EQUAL, mod_revision=expected_revision),
            ],
            success=[op],
            failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=key))],
        )

    def _raise_cas_failure(self, key: str, expected_revision: int, response: Any) -> None:
        self._seen(response.header)
        current = response.responses[0].response_range.kvs
        if not current:
            raise NotFound(key)
        raise Conflict(
            f"{key} is at revision {current[0].mod_revision}, not {expected_revision}", key_value(current[0])
        )

    async def _lease(self, ttl: float) -> int:
        """A lease expiring after `ttl` seconds (rounded up). Keys with a long TTL share a lease granted
        within the last 5% of it (at most a minute), so they outlive their TTL by at most that, and a burst
        of Events costs one grant rather than one per key."""
        seconds = max(1, math.ceil(ttl))
        reuse_window = min(_LEASE_REUSE_MAX, seconds // 20)
        cached = self._reusable_leases.get(seconds)
        if cached is not None and time.monotonic() - cached[1] < reuse_window:
            return cached[0]
        response = await self._call(
            self._leases.LeaseGrant, rpc.LeaseGrantRequest(TTL=seconds + reuse_window), "lease grant"
        )
        if reuse_window:
            self._reusable_leases[seconds] = (response.ID, time.monotonic())
        return int(response.ID)

    def watch(self, prefix: str, *, after_revision: int) -> Watch:
        self._check_open()
        key, range_end = _prefix_range(prefix)
        watch = EtcdWatch(
            self._watch_stub,
            key=key,
            range_end=range_end,
            after=after_revision or self._seen_revision,
            from_now=not after_revision,
            queue_size=broadcast.WATCH_QUEUE_SIZE,  # the drivers' shared bound, read per watch
            on_close=self._watches.discard,
        )
        self._watches.add(watch)
        return watch

    async def _learn_compact_revision(self) -> int:
        """etcd's compact revision, which only a watch reports: one from revision 1 is refused with it
        (within etcd's 100 ms sync of lagging watchers). Falls back to the newest known here."""
        call = self._watch_stub.Watch(timeout=_COMPACT_PROBE_TIMEOUT)
        try:
            probe = rpc.WatchCreateRequest(key=b"\0", start_revision=1)
            await call.write(rpc.WatchRequest(create_request=probe))
            async for response in call:
                if response.compact_revision:
                    self._compact_revision = max(self._compact_revision, int(response.compact_revision))
                    break
        except rpc.AioRpcError:
            pass  # the message only loses its detail
        finally:
            call.cancel()
        return self._compact_revision

    async def current_revision(self) -> int:
        response = await self._call(self._kv.Range, _REVISION_READ, "revision read")
        return self._seen(response.header)

    async def compact(self, revision: int) -> None:
        self._check_open()
        try:
            await self._kv.Compact(
                rpc.CompactionRequest(revision=revision), timeout=self._timeout, wait_for_ready=True
            )
        except rpc.AioRpcError as exc:
            if _is_future(exc):
                current = await self.current_revision()
                raise FutureRevision(
                    f"cannot compact at future revision {revision} (current {current})", current
                ) from exc
            if not _is_compacted(exc):  # already compacted at or beyond `revision`: nothing to do
                raise _error(exc, f"compact at {revision}") from exc
        self._compact_revision = max(self._compact_revision, revision)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._compactor is not None:
            self._compactor.cancel()
            await asyncio.gather(self._compactor, return_exceptions=True)
        await asyncio.gather(*(w.close() for w in list(self._watches)))
        await self._channel.close()
