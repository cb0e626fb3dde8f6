"""ConfigMaps and Secrets as the node reads them for volumes and env vars, with a short-lived cache.

The pod loop refreshes every pod's volumes every few seconds; pods sharing a ConfigMap (and one pod's env
and volumes) share one GET per `ttl`. A missing object is remembered as None, like the kubelet's cache, and
reported with the kubelet's wording (`configmap "x" not found`, singular).
"""

from __future__ import annotations

import base64
import time
from typing import Any

from kubelite.client import errors, paths
from kubelite.client.rest import RestClient

JSON = dict[str, Any]

CONFIGMAPS = paths.resource("", "v1", "configmaps")
SECRETS = paths.resource("", "v1", "secrets")
_KINDS = {"configmap": CONFIGMAPS, "secret": SECRETS}


def not_found(kind: str, name: str) -> str:
    """The kubelet's message for a missing object: `configmap "x" not found`, `secret "x" not found`."""
    return f'{kind} "{name}" not found'


def configmap_data(configmap: JSON) -> dict[str, bytes]:
    """Every key of a ConfigMap, text and binary, as bytes."""
    data = {key: str(value).encode() for key, value in (configmap.get("data") or {}).items()}
    for key, value in (configmap.get("binaryData") or {}).items():
        data[key] = base64.b64decode(value)
    return data


def secret_data(secret: JSON) -> dict[str, bytes]:
    """A Secret's keys decoded (the API returns `data` base64; `stringData` never comes back from it)."""
    return {key: base64.b64decode(value or "") for key, value in (secret.get("data") or {}).items()}


class ObjectSource:
    """GETs ConfigMaps and Secrets through `client`, answering repeats within `ttl` seconds from memory."""

    def __init__(self, client: RestClient, *, ttl: float = 5.0) -> None:
        self.client = client
        self._ttl = ttl
        self._cache: dict[tuple[str, str, str], tuple[float, JSON | None]] = {}

    async def _get(self, kind: str, namespace: str, name: str) -> JSON | None:
        key = (kind, namespace, name)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            found: JSON | None = await self.client.get(_KINDS[kind], name, namespace=namespace)
        except errors.NotFound:
            found = None
        if self._ttl > 0:
            self._cache[key] = (now, found)
            self._expire(now)
        return found

    def _expire(self, now: float) -> None:
        if len(self._cache) > 1024:
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self._ttl}

    async def configmap(self, namespace: str, name: str) -> JSON | None:
        """The ConfigMap, or None when it does not exist; other API failures raise ClientError."""
        return await self._get("configmap", namespace, name)

    async def secret(self, namespace: str, name: str) -> JSON | None:
        return await self._get("secret", namespace, name)
