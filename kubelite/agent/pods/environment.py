"""A container's environment, built by the kubelet's rules.

envFrom first (ConfigMaps and Secrets, with prefix), then env, which wins: literal values with `$(VAR)`
references to earlier variables and the service variables expanded (`$$` escapes), or values from ConfigMap
and Secret keys, pod fields and container resources. Service variables the container does not define itself
come last. envFrom keys are not filtered: with RelaxedEnvironmentVariableValidation (on by default since
1.32, as kubelite's API validates) every ConfigMap or Secret key is a valid variable name, so the kubelet's
old InvalidEnvironmentVariableNames skipping never applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelite.agent.volumes import downward
from kubelite.agent.volumes.sources import ObjectSource, configmap_data, not_found, secret_data
from kubelite.agent.volumes.types import ConfigError
from kubelite.client import errors
from kubelite.client.rest import RestClient

JSON = dict[str, Any]


def expand(text: str, mapping: Callable[[str], str | None]) -> str:
    """Kubernetes' `$(VAR)` expansion: `$$` is a literal `$`; unknown or unterminated references stay as
    written (`mapping` returns None for unknown names)."""
    out: list[str] = []
    checkpoint, cursor, length = 0, 0, len(text)
    while cursor < length:
        if text[cursor] == "$" and cursor + 1 < length:
            out.append(text[checkpoint:cursor])
            following = text[cursor + 1]
            if following == "$":
                out.append("$")
                cursor += 1
            elif following == "(":
                close = text.find(")", cursor + 2)
                if close < 0:
                    out.append("$(")
                    cursor += 1
                else:
                    name = text[cursor + 2 : close]
                    value = mapping(name)
                    out.append(f"$({name})" if value is None else value)
                    cursor = close
            else:
                out.append("$" + following)
                cursor += 1
            checkpoint = cursor + 1
        cursor += 1
    out.append(text[checkpoint:])
    return "".join(out)


@dataclass
class Environment:
    variables: list[tuple[str, str]]
    # (reason, message) Warning events for the pod. Always empty with 1.32's relaxed names (see above); the
    # pod loop already records whatever appears here.
    warnings: list[tuple[str, str]] = field(default_factory=list)


class _Lookup:
    """The ConfigMaps and Secrets one container refers to, each fetched once."""

    def __init__(self, objects: ObjectSource, namespace: str) -> None:
        self._objects = objects
        self._namespace = namespace
        self._seen: dict[tuple[str, str], dict[str, bytes] | None] = {}

    async def data(self, kind: str, name: str, *, optional: bool) -> dict[str, bytes] | None:
        """The object's keys; None when missing and optional; ConfigError when missing and required."""
        key = (kind, name)
        if key not in self._seen:
            try:
                if kind == "configmap":
                    found = await self._objects.configmap(self._namespace, name)
                    # Only `data` becomes env vars; binaryData keys are for volumes.
                    text_only = {"data": found.get("data")} if found is not None else None
                    self._seen[key] = configmap_data(text_only) if text_only is not None else None
                else:
                    secret = await self._objects.secret(self._namespace, name)
                    self._seen[key] = secret_data(secret) if secret is not None else None
            except errors.ClientError as exc:
                raise ConfigError(str(exc)) from exc
        data = self._seen[key]
        if data is None and not optional:
            raise ConfigError(not_found(kind, name))
        return data


def _text(value: bytes) -> str:
    return value.decode(errors="replace")


async def build_env(
    client_or_lookup: RestClient | ObjectSource,
    pod: JSON,
    container: JSON,
    *,
    service_env: Mapping[str, str],
    pod_ips: Sequence[str] | None = None,
    host_ips: Sequence[str] | None = None,
    allocatable: Mapping[str, str] | None = None,
) -> Environment:
    """The container's variables in order; raises ConfigError (CreateContainerConfigError) with upstream's
    message. `pod_ips`/`host_ips` default to what the pod's status says."""
    objects = (
        client_or_lookup
        if isinstance(client_or_lookup, ObjectSource)
        else ObjectSource(client_or_lookup, ttl=0)
    )
    namespace = str(pod["metadata"]["namespace"])
    lookup = _Lookup(objects, namespace)
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        for kind, ref_key in (("configmap", "configMapRef"), ("secret", "secretRef")):
            ref = source.get(ref_key)
            if ref is None:
                continue
            name = str(ref.get("name", ""))
            data = await lookup.data(kind, name, optional=bool(ref.get("optional")))
            for key, raw in (data or {}).items():
                env[prefix + key] = _text(raw)

    def mapping(name: str) -> str | None:
        return env[name] if name in env else service_env.get(name)

    ips = list(pod_ips) if pod_ips is not None else downward.status_ips(pod, "podIPs", "podIP")
    hosts = list(host_ips) if host_ips is not None else downward.status_ips(pod, "hostIPs", "hostIP")
    for var in container.get("env") or []:
        name = str(var["name"])
        value = str(var.get("value") or "")
        source = var.get("valueFrom")
        if value:
            value = expand(value, mapping)
        elif source:
            resolved = await _value_from(
                lookup, pod, container, source, ips, hosts, allocatable or {}, namespace
            )
            if resolved is None:
                continue
            value = resolved
        env[name] = value
    result = list(env.items())
    result.extend((key, value) for key, value in service_env.items() if key not in env)
    return Environment(result)


async def _value_from(
    lookup: _Lookup,
    pod: JSON,
    container: JSON,
    source: JSON,
    pod_ips: list[str],
    host_ips: list[str],
    allocatable: Mapping[str, str],
    namespace: str,
) -> str | None:
    """One valueFrom; None when an optional source or key is missing (the variable is left out)."""
    try:
        if ref := source.get("fieldRef"):
            return downward.env_field_value(
                pod, str(ref.get("fieldPath", "")), pod_ips=pod_ips, host_ips=host_ips
            )
        if ref := source.get("resourceFieldRef"):
            return downward.container_resource_value(pod, container, ref, allocatable)
    except downward.DownwardError as exc:
        raise ConfigError(str(exc)) from exc
    for kind, ref_key, label in (
        ("configmap", "configMapKeyRef", "ConfigMap"),
        ("secret", "secretKeyRef", "Secret"),
    ):
        if ref := source.get(ref_key):
            optional = bool(ref.get("optional"))
            name, key = str(ref.get("name", "")), str(ref.get("key", ""))
            data = await lookup.data(kind, name, optional=optional)
            if data is None:
                return None
            if key not in data:
                if optional:
                    return None
                raise ConfigError(f"couldn't find key {key} in {label} {namespace}/{name}")
            return _text(data[key])
    return None
