"""Opens a store from a datastore endpoint URL, as k3s's --datastore-endpoint spells them:
`sqlite://PATH` (the embedded default) or `etcd://HOST:PORT[,HOST:PORT...]` (`http://` also accepted)."""

from __future__ import annotations

from kubelite.store.base import Store, Unavailable


async def open_store(endpoint: str) -> Store:
    scheme, sep, rest = endpoint.partition("://")
    if not sep or not rest:
        raise Unavailable(f"invalid datastore endpoint {endpoint!r}: want sqlite://PATH or etcd://HOST:PORT")
    if scheme == "sqlite":
        from kubelite.store.sqlite import SQLiteStore

        return await SQLiteStore.open(rest)
    if scheme in ("etcd", "http"):
        from kubelite.store.etcd import EtcdStore

        return await EtcdStore.open(rest.rstrip("/").split(","))
    raise Unavailable(f"unsupported datastore scheme {scheme!r} in {endpoint!r}: want sqlite:// or etcd://")
