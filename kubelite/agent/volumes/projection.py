"""What configMap, secret, downwardAPI and projected volumes hold: the file payload for the atomic writer.

Errors carry upstream's wording (`configmap "x" not found`, `configmap references non-existent config key:
k`); the volume manager prefixes them with the volume. Service account tokens come from the TokenRequest API,
bound to the pod, and are renewed after 80% of their life, as the kubelet does.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from kubelite.agent.volumes import downward
from kubelite.agent.volumes.atomic import File, Payload
from kubelite.agent.volumes.sources import ObjectSource, configmap_data, not_found, secret_data
from kubelite.agent.volumes.types import VolumeError
from kubelite.client import errors, paths

JSON = dict[str, Any]

SERVICEACCOUNTS = paths.resource("", "v1", "serviceaccounts")
DEFAULT_MODE = 0o644


def _fs_group(pod: JSON) -> int | None:
    group = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroup")
    return int(group) if group is not None else None


def _file(pod: JSON, data: bytes, mode: int) -> File:
    group = _fs_group(pod)
    # As SetVolumeOwnership does for read-only volumes: the fsGroup can always read.
    return File(data, mode | 0o440, group) if group is not None else File(data, mode)


def _keys_payload(
    pod: JSON, data: Mapping[str, bytes], source: JSON, default_mode: int, missing_key: str
) -> Payload:
    items = source.get("items") or []
    if not items:
        return {key: _file(pod, value, default_mode) for key, value in data.items()}
    payload: Payload = {}
    for item in items:
        key = str(item.get("key", ""))
        if key not in data:
            if source.get("optional"):
                continue
            raise VolumeError(f"{missing_key}: {key}")
        mode = item.get("mode")
        payload[str(item.get("path") or key)] = _file(pod, data[key], default_mode if mode is None else mode)
    return payload


def _mode(source: JSON, inherited: int | None = None) -> int:
    mode = source.get("defaultMode")
    if mode is not None:
        return int(mode)
    return DEFAULT_MODE if inherited is None else inherited


class Projector:
    def __init__(self, objects: ObjectSource, *, allocatable: Mapping[str, str]) -> None:
        self.objects = objects
        self.allocatable = allocatable
        # (pod uid, audience, expiration) -> (token, when to fetch a new one)
        self._tokens: dict[tuple[str, str, int], tuple[bytes, float]] = {}

    async def configmap(self, pod: JSON, source: JSON, default_mode: int | None = None) -> Payload:
        namespace = str(pod["metadata"]["namespace"])
        name = str(source.get("name", ""))
        found = await self.objects.configmap(namespace, name)
        if found is None:
            if source.get("optional"):
                return {}
            raise VolumeError(not_found("configmap", name))
        mode = _mode(source, default_mode)
        return _keys_payload(
            pod, configmap_data(found), source, mode, "configmap references non-existent config key"
        )

    async def secret(self, pod: JSON, source: JSON, default_mode: int | None = None) -> Payload:
        namespace = str(pod["metadata"]["namespace"])
        name = str(source.get("secretName") or source.get("name") or "")
        found = await self.objects.secret(namespace, name)
        if found is None:
            if source.get("optional"):
                return {}
            raise VolumeError(not_found("secret", name))
        mode = _mode(source, default_mode)
        return _keys_payload(pod, secret_data(found), source, mode, "references non-existent secret key")

    def downward_api(self, pod: JSON, source: JSON, default_mode: int | None = None) -> Payload:
        mode = _mode(source, default_mode)
        payload: Payload = {}
        for item in source.get("items") or []:
            try:
                if field_ref := item.get("fieldRef"):
                    value = downward.volume_field_value(pod, str(field_ref.get("fieldPath", "")))
                elif resource_ref := item.get("resourceFieldRef"):
                    value = downward.container_resource_value(pod, None, resource_ref, self.allocatable)
                else:
                    continue
            except downward.DownwardError as exc:
                raise VolumeError(str(exc)) from exc
            item_mode = item.get("mode")
            payload[str(item["path"])] = _file(pod, value.encode(), mode if item_mode is None else item_mode)
        return payload

    async def projected(self, pod: JSON, source: JSON) -> Payload:
        mode = _mode(source)
        payload: Payload = {}
        failures: list[str] = []
        for projection in source.get("sources") or []:
            try:
                if "configMap" in projection:
                    payload.update(await self.configmap(pod, projection["configMap"], mode))
                elif "secret" in projection:
                    payload.update(await self.secret(pod, projection["secret"], mode))
                elif "downwardAPI" in projection:
                    payload.update(self.downward_api(pod, projection["downwardAPI"], mode))
                elif "serviceAccountToken" in projection:
                    token_source = projection["serviceAccountToken"]
                    token = await self.token(pod, token_source)
                    payload[str(token_source["path"])] = _file(pod, token, mode)
                else:
                    failures.append(f"unsupported projected volume source: {sorted(projection)}")
            except VolumeError as exc:
                failures.append(str(exc))
        if failures:
            raise VolumeError(failures[0] if len(failures) == 1 else f"[{', '.join(failures)}]")
        return payload

    async def token(self, pod: JSON, source: JSON) -> bytes:
        """A token for the pod's service account; a TokenRequest one is renewed after 80% of its life."""
        meta, spec = pod["metadata"], pod.get("spec") or {}
        account = str(spec.get("serviceAccountName") or "default")
        expiration = int(source.get("expirationSeconds") or 3600)
        key = (str(meta.get("uid", "")), str(source.get("audience") or ""), expiration)
        cached = self._tokens.get(key)
        now = time.monotonic()
        if cached is not None and now < cached[1]:
            return cached[0]
        body: JSON = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "expirationSeconds": expiration,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": meta["name"],
                    "uid": meta.get("uid"),
                },
            },
        }
        if source.get("audience"):
            body["spec"]["audiences"] = [source["audience"]]
        try:
            answer = await self.objects.client.create_subresource(
                SERVICEACCOUNTS, account, "token", body, namespace=meta["namespace"]
            )
        except errors.ClientError as exc:
            raise VolumeError(f"failed to fetch token: {exc}") from exc
        token = str((answer.get("status") or {}).get("token", "")).encode()
        self._tokens[key] = (token, now + 0.8 * expiration)
        return token

    def forget(self, pod_uid: str) -> None:
        for key in [k for k in self._tokens if k[0] == pod_uid]:
            del self._tokens[key]
