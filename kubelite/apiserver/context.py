"""Everything a request handler needs, built once per server: store, resource registries, the request
chain, metrics, the knobs handlers read and the in-memory caches admission reads namespaces and service
accounts from."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kubelite.apiserver import errors, strategies
from kubelite.apiserver.chain import Chain
from kubelite.apiserver.discovery import Discovery
from kubelite.apiserver.metrics import ApiMetrics
from kubelite.apiserver.nscache import PrefixCache, WriteThroughStore
from kubelite.apiserver.registry import Registry, Validate
from kubelite.apiserver.requestinfo import RequestInfo
from kubelite.apiserver.resource import ApiResource
from kubelite.apiserver.serviceaccounttoken import TokenSigner
from kubelite.apiserver.services.allocator import ServiceAllocator
from kubelite.apiserver.services.ranges import IPRange, PortRange
from kubelite.apiserver.services.strategy import ServiceStrategy
from kubelite.apiserver.watchcache import WatchCache
from kubelite.store import Store

# Looked up on nearly every request by admission, so served from memory.
_CACHED = {("", "v1", "namespaces"), ("", "v1", "serviceaccounts")}


@dataclass
class ServerContext:
    store: Store
    resources: list[ApiResource]
    chain: Chain
    metrics: ApiMetrics
    server_address: str  # host:port clients reach us at (for /api's serverAddressByClientCIDRs)
    bookmark_interval: float = 60.0
    validate: Validate | None = None
    service_ips: IPRange = field(default_factory=lambda: IPRange.parse("10.43.0.0/16"))
    node_ports: PortRange = field(default_factory=lambda: PortRange.parse("30000-32767"))
    kubelet_client: ssl.SSLContext | None = None  # TLS to node agents; None: no client certificate
    token_signer: TokenSigner | None = None  # service-account tokens; None: TokenRequest is not served
    discovery: Discovery = field(init=False)
    _registries: dict[tuple[str, str, str], Registry] = field(init=False, default_factory=dict)
    _caches: dict[str, PrefixCache] = field(init=False, default_factory=dict)  # by core/v1 plural
    watch_cache: WatchCache = field(init=False)

    def __post_init__(self) -> None:
        self.discovery = Discovery(self.resources)
        cached: list[str] = []
        for r in self.resources:
            strategy = strategies.for_resource(r.group, r.plural)
            if (r.group, r.plural) == ("", "services"):
                strategy = ServiceStrategy(ServiceAllocator(self.store, r, self.service_ips, self.node_ports))
            store: Store = self.store
            if (r.group, r.version, r.plural) in _CACHED:
                cache = self._caches[r.plural] = PrefixCache(self.store, r.storage_prefix)
                store = WriteThroughStore(self.store, cache)
            registry = Registry(store, r, strategy, validate=self.validate)
            self._registries[(r.group, r.version, r.plural)] = registry
            if strategy.ttl_seconds is None and r.storage_prefix not in cached:
                cached.append(r.storage_prefix)  # expiring keys (Events) stay with the store
        self.watch_cache = WatchCache(self.store, cached)
        for registry in self._registries.values():
            if self.watch_cache.caches(registry.resource.storage_prefix):
                registry.cache = self.watch_cache

    async def start_caches(self) -> None:
        """Fill the caches (they are synced on return) and start following the store."""
        for cache in self._caches.values():
            await cache.start()
        await self.watch_cache.start()

    async def stop_caches(self) -> None:
        await self.watch_cache.stop()
        for cache in self._caches.values():
            await cache.stop()

    def registry(self, group: str, version: str, plural: str) -> Registry | None:
        return self._registries.get((group, version, plural))

    def registry_for(self, info: RequestInfo) -> Registry:
        registry = self.registry(info.group, info.version, info.resource)
        if registry is None:
            raise errors.path_not_found()
        return registry

    def registries(self) -> Iterable[Registry]:
        return self._registries.values()

    async def lookup_namespace(self, name: str) -> dict[str, Any] | None:
        return await self._lookup("namespaces", "", name)

    async def lookup_service_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        return await self._lookup("serviceaccounts", namespace, name)

    async def _lookup(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """A core/v1 object from the cache; a miss asks the watch cache, whose consistent answer is
        authoritative (or the store, when it cannot answer). None if it (or its resource) does not exist.
        Decoded per call, so callers may keep or change what they get."""
        registry = self.registry("", "v1", plural)
        cache = self._caches.get(plural)
        if registry is None or cache is None:
            return None
        kv = cache.peek(registry.resource.key(namespace, name))
        if kv is None:
            try:
                kv = (await registry.get_entry(namespace, name)).kv
            except errors.ApiError as exc:
                if exc.code == 404:
                    return None
                raise
        return registry.decode(kv)
