"""Reservations: one store key per allocated value, naming the Service that holds it.

Creating a key succeeds only if it is absent, so a value has one holder even when several API servers
share the store. A reservation whose holder no longer uses its value (a crash between reserving and
storing, or between deleting a Service and releasing) is stale once it is older than STALE_AFTER, and the
next claim of that value or the repair at start takes it over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from kubelite.store import AlreadyExists, Conflict, KeyValue, NotFound, Store, StoreError

log = logging.getLogger(__name__)

# Long enough for any in-flight write to finish, whichever API server runs it.
STALE_AFTER = 60.0
_CLAIM_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class Holder:
    """The Service a value is reserved for."""

    namespace: str
    name: str
    uid: str


# Whether the holder still uses the value (its Service exists, with that uid, and lists the value).
InUse = Callable[[Holder, str], Awaitable[bool]]


class Taken(Exception):
    """The value is reserved for another Service."""


@dataclass(frozen=True, slots=True)
class _Record:
    holder: Holder
    reserved_at: float

    def encode(self) -> bytes:
        h = self.holder
        return orjson.dumps(
            {"namespace": h.namespace, "name": h.name, "uid": h.uid, "reservedAt": self.reserved_at}
        )

    @classmethod
    def decode(cls, raw: bytes) -> _Record:
        try:
            data = orjson.loads(raw)
            holder = Holder(str(data["namespace"]), str(data["name"]), str(data["uid"]))
            return cls(holder, float(data.get("reservedAt", 0)))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return cls(Holder("", "", ""), 0.0)  # unreadable: nobody's, stale at once


class Reservations:
    def __init__(self, store: Store, prefix: str, in_use: InUse) -> None:
        self.store = store
        self.prefix = prefix
        self._in_use = in_use

    def _key(self, value: str) -> str:
        return self.prefix + value

    async def taken(self) -> set[str]:
        """Every reserved value (stale ones included)."""
        return {value for value, _kv in await self.records()}

    async def _stale(self, record: _Record, value: str) -> bool:
        if time.time() - record.reserved_at < STALE_AFTER:
            return False
        return not await self._in_use(record.holder, value)

    async def claim(self, value: str, holder: Holder) -> bool:
        """Reserve `value` for `holder`: True when newly reserved, False when it already held it; Taken
        when another Service does."""
        record = _Record(holder, time.time())
        for _attempt in range(_CLAIM_ATTEMPTS):
            try:
                await self.store.create(self._key(value), record.encode())
                return True
            except AlreadyExists:
                pass
            try:
                kv = await self.store.get(self._key(value))
            except NotFound:
                continue  # released meanwhile
            current = _Record.decode(kv.value)
            if current.holder.uid == holder.uid:
                return False
            if not await self._stale(current, value):
                raise Taken(value)
            try:
                await self.store.update(self._key(value), record.encode(), expected_revision=kv.mod_revision)
                log.info("took over stale reservation %s from %s", self._key(value), current.holder)
                return True
            except (Conflict, NotFound):
                continue
        raise Taken(value)

    async def available(self, value: str, holder: Holder) -> bool:
        """Whether `claim` would succeed now (dry runs reserve nothing)."""
        try:
            kv = await self.store.get(self._key(value))
        except NotFound:
            return True
        current = _Record.decode(kv.value)
        return current.holder.uid == holder.uid or await self._stale(current, value)

    async def release(self, value: str, uid: str) -> None:
        """Give `value` back if `uid` holds it. Never fails: a reservation left behind goes stale."""
        try:
            kv = await self.store.get(self._key(value))
            if _Record.decode(kv.value).holder.uid == uid:
                await self.store.delete(self._key(value), expected_revision=kv.mod_revision)
        except (NotFound, Conflict):
            return
        except StoreError as exc:
            log.warning("cannot release %s (it will be reclaimed later): %s", self._key(value), exc)

    async def holder(self, value: str) -> Holder | None:
        try:
            return _Record.decode((await self.store.get(self._key(value))).value).holder
        except NotFound:
            return None

    async def records(self) -> list[tuple[str, KeyValue]]:
        """(value, key-value) of every reservation, in one consistent read."""
        found: list[tuple[str, KeyValue]] = []
        after, revision = "", 0
        while True:
            page = await self.store.list(self.prefix, limit=1000, start_after=after, revision=revision)
            found += [(kv.key[len(self.prefix) :], kv) for kv in page.items]
            if not page.more or not page.items:
                return found
            after, revision = page.items[-1].key, page.revision

    async def drop_if_stale(self, value: str, kv: KeyValue) -> bool:
        """Delete a stale reservation (at the revision it was read); True when it was."""
        if not await self._stale(_Record.decode(kv.value), value):
            return False
        try:
            await self.store.delete(self._key(value), expected_revision=kv.mod_revision)
        except (NotFound, Conflict):
            return False
        return True
