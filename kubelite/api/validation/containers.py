"""Containers of a pod spec: names, images, ports, environment, mounts, probes, resources, security.

Follows validateContainerCommon and its callers: regular containers may carry probes and lifecycle hooks,
init containers only when they are restartable sidecars (restartPolicy Always), and names are unique across
both lists. Templates are validated after defaulting, so pull and termination-message policies are set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names
from kubelite.api.validation.resources import requirements
from kubelite.api.validation.security import container_security_context
from kubelite.api.validation.volumes import (
    local_descending_path,
    no_backsteps,
    object_field_selector,
    pull_policy,
    resource_field_selector,
)

PROTOCOLS = ("SCTP", "TCP", "UDP")
ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
RECURSIVE_READ_ONLY = ("Disabled", "Enabled", "IfPossible")
SIDECAR_ONLY = "may not be set for init containers without restartPolicy=Always"


def port_num_or_name(port: int | str, path: str) -> list[Cause]:
    if isinstance(port, int):
        return [e.invalid(path, port, msg) for msg in names.is_valid_port_num(port)]
    return [e.invalid(path, port, msg) for msg in names.is_valid_port_name(port)]


def _ports(ports: list[dict[str, Any]], path: str) -> list[Cause]:
    found: list[Cause] = []
    seen: set[str] = set()
    for i, port in enumerate(ports):
        where = e.index(path, i)
        name = port.get("name") or ""
        if name:
            problems = names.is_valid_port_name(name)
            if problems:
                found += [e.invalid(e.child(where, "name"), name, msg) for msg in problems]
            elif name in seen:
                found.append(e.duplicate(e.child(where, "name"), name))
            else:
                seen.add(name)
        container_port = port.get("containerPort") or 0
        if not container_port:
            found.append(e.required(e.child(where, "containerPort")))
        else:
            found += [
                e.invalid(e.child(where, "containerPort"), container_port, msg)
                for msg in names.is_valid_port_num(container_port)
            ]
        host_port = port.get("hostPort") or 0
        if host_port:
            found += [
                e.invalid(e.child(where, "hostPort"), host_port, msg)
                for msg in names.is_valid_port_num(host_port)
            ]
        protocol = port.get("protocol") or ""
        if not protocol:
            found.append(e.required(e.child(where, "protocol")))
        elif protocol not in PROTOCOLS:
            found.append(e.not_supported(e.child(where, "protocol"), protocol, PROTOCOLS))
    return found


def _key_selector(selector: Mapping[str, Any], path: str) -> list[Cause]:
    name = selector.get("name") or ""
    found = [e.invalid(e.child(path, "name"), name, msg) for msg in names.is_dns1123_subdomain(name)]
    key = selector.get("key") or ""
    if not key:
        found.append(e.required(e.child(path, "key")))
    else:
        found += [e.invalid(e.child(path, "key"), key, msg) for msg in names.is_config_map_key(key)]
    return found


def _value_from(var: Mapping[str, Any], path: str) -> list[Cause]:
    source = var.get("valueFrom")
    if source is None:
        return []
    found: list[Cause] = []
    count = 0
    if source.get("fieldRef") is not None:
        count += 1
        found += object_field_selector(source["fieldRef"], ENV_FIELD_PATHS, e.child(path, "fieldRef"))
    if source.get("resourceFieldRef") is not None:
        count += 1
        found += resource_field_selector(
            source["resourceFieldRef"], e.child(path, "resourceFieldRef"), in_volume=False
        )
    for kind in ("configMapKeyRef", "secretKeyRef"):
        if source.get(kind) is not None:
            count += 1
            found += _key_selector(source[kind], e.child(path, kind))
    if count == 0:
        detail = "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
        found.append(e.invalid(path, "", detail))
    elif var.get("value"):
        found.append(e.invalid(path, "", "may not be specified when `value` is not empty"))
    elif count > 1:
        found.append(e.invalid(path, "", "may not have more than one field specified at a time"))
    return found


def _env(variables: list[dict[str, Any]], path: str) -> list[Cause]:
    found: list[Cause] = []
    for i, var in enumerate(variables):
        where = e.index(path, i)
        name = var.get("name") or ""
        if not name:
            found.append(e.required(e.child(where, "name")))
        else:
            found += [e.invalid(e.child(where, "name"), name, msg) for msg in names.is_env_var_name(name)]
        found += _value_from(var, e.child(where, "valueFrom"))
    return found


def _env_from(sources: list[dict[str, Any]], path: str) -> list[Cause]:
    found: list[Cause] = []
    for i, source in enumerate(sources):
        where = e.index(path, i)
        prefix = source.get("prefix") or ""
        if prefix:
            found += [
                e.invalid(e.child(where, "prefix"), prefix, msg) for msg in names.is_env_var_name(prefix)
            ]
        refs = [kind for kind in ("configMapRef", "secretRef") if source.get(kind) is not None]
        for kind in refs:
            name = source[kind].get("name") or ""
            if not name:
                found.append(e.required(e.child(where, kind, "name")))
            else:
                found += [
                    e.invalid(e.child(where, kind, "name"), name, msg)
                    for msg in names.name_is_dns_subdomain(name, True)
                ]
        if not refs:
            found.append(e.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif len(refs) > 1:
            found.append(e.invalid(path, "", "may not have more than one field specified at a time"))
    return found


def _mounts(container: Mapping[str, Any], volumes: Mapping[str, Any], path: str) -> list[Cause]:
    found: list[Cause] = []
    devices = {d.get("name"): d.get("devicePath") for d in container.get("volumeDevices") or []}
    mount_points: set[str] = set()
    privileged = bool((container.get("securityContext") or {}).get("privileged"))
    for i, mount in enumerate(container.get("volumeMounts") or []):
        where = e.index(path, i)
        name, mount_path = mount.get("name") or "", mount.get("mountPath") or ""
        if not name:
            found.append(e.required(e.child(where, "name")))
        if name not in volumes:
            found.append(e.not_found(e.child(where, "name"), name))
        if not mount_path:
            found.append(e.required(e.child(where, "mountPath")))
        if mount_path in mount_points:
            found.append(e.invalid(e.child(where, "mountPath"), mount_path, "must be unique"))
        mount_points.add(mount_path)
        if name in devices:
            found.append(e.invalid(e.child(where, "name"), name, "must not already exist in volumeDevices"))
        if mount_path in devices.values():
            detail = "must not already exist as a path in volumeDevices"
            found.append(e.invalid(e.child(where, "mountPath"), mount_path, detail))
        sub_path, sub_path_expr = mount.get("subPath") or "", mount.get("subPathExpr") or ""
        if sub_path:
            found += local_descending_path(sub_path, e.child(path, "subPath"))
        if sub_path_expr:
            if sub_path:
                detail = "subPathExpr and subPath are mutually exclusive"
                found.append(e.invalid(e.child(where, "subPathExpr"), sub_path_expr, detail))
            found += local_descending_path(sub_path_expr, e.child(path, "subPathExpr"))
        propagation = mount.get("mountPropagation")
        if propagation is not None:
            if propagation not in MOUNT_PROPAGATIONS:
                found.append(
                    e.not_supported(e.child(path, "mountPropagation"), propagation, MOUNT_PROPAGATIONS)
                )
            if propagation == "Bidirectional" and not privileged:
                detail = "Bidirectional mount propagation is available only to privileged containers"
                found.append(e.forbidden(e.child(path, "mountPropagation"), detail))
        found += _recursive_read_only(mount, e.child(path, "recursiveReadOnly"))
    return found


def _recursive_read_only(mount: Mapping[str, Any], path: str) -> list[Cause]:
    mode = mount.get("recursiveReadOnly")
    if mode is None or mode == "Disabled":
        return []
    if mode not in RECURSIVE_READ_ONLY:
        return [e.not_supported(path, mode, RECURSIVE_READ_ONLY)]
    found = (
        [] if mount.get("readOnly") else [e.forbidden(path, "may only be specified when readOnly is true")]
    )
    if mount.get("mountPropagation") not in (None, "None"):
        found.append(
            e.forbidden(path, "may only be specified when mountPropagation is None or not specified")
        )
    return found


def _devices(container: Mapping[str, Any], volumes: Mapping[str, Any], path: str) -> list[Cause]:
    found: list[Cause] = []
    mounts = {mount.get("name"): mount.get("mountPath") for mount in container.get("volumeMounts") or []}
    seen_names: set[str] = set()
    seen_paths: set[str] = set()
    for i, device in enumerate(container.get("volumeDevices") or []):
        where = e.index(path, i)
        name, device_path = device.get("name") or "", device.get("devicePath") or ""
        if not name:
            found.append(e.required(e.child(where, "name")))
        if name in seen_names:
            found.append(e.invalid(e.child(where, "name"), name, "must be unique"))
        volume = volumes.get(name)
        if volume is None:
            found.append(e.not_found(e.child(where, "name"), name))
        elif volume.get("persistentVolumeClaim") is None and volume.get("ephemeral") is None:
            detail = "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"
            found.append(e.invalid(e.child(where, "name"), name, detail))
        if not device_path:
            found.append(e.required(e.child(where, "devicePath")))
        if device_path in seen_paths:
            found.append(e.invalid(e.child(where, "devicePath"), device_path, "must be unique"))
        if device_path and no_backsteps(device_path, path):
            found.append(
                e.invalid(e.child(where, "devicePath"), device_path, "can not contain backsteps ('..')")
            )
        else:
            seen_paths.add(device_path)
        if name in mounts:
            found.append(e.invalid(e.child(where, "name"), name, "must not already exist in volumeMounts"))
        if device_path in mounts.values():
            detail = "must not already exist as a path in volumeMounts"
            found.append(e.invalid(e.child(where, "devicePath"), device_path, detail))
        if name:
            seen_names.add(name)
    return found


def _resize_policy(policies: list[dict[str, Any]], path: str, restart_policy: str) -> list[Cause]:
    found: list[Cause] = []
    seen: set[str] = set()
    for i, policy in enumerate(policies):
        resource, restart = policy.get("resourceName") or "", policy.get("restartPolicy") or ""
        if resource in seen:
            found.append(e.duplicate(e.index(path, i), resource))
        seen.add(resource)
        if not resource:
            found.append(e.required(path))
        elif resource not in ("cpu", "memory"):
            found.append(e.not_supported(path, resource, ("cpu", "memory")))
        if not restart:
            found.append(e.required(path))
        elif restart not in ("NotRequired", "RestartContainer"):
            found.append(e.not_supported(path, restart, ("NotRequired", "RestartContainer")))
        if restart_policy == "Never" and restart != "NotRequired":
            found.append(e.invalid(path, restart, "must be 'NotRequired' when `restartPolicy` is 'Never'"))
    return found


@dataclass(frozen=True, slots=True)
class PodContext:
    """What a container's rules depend on in its pod: the valid volumes (by name), the pod's grace period,
    restart policy and whether it shares the host's user namespace."""

    volumes: Mapping[str, Any]
    grace: int | None
    restart_policy: str
    host_users: bool


def common(container: Mapping[str, Any], path: str, pod: PodContext) -> list[Cause]:
    """validateContainerCommon: what every kind of container must satisfy."""
    volumes = pod.volumes
    name = container.get("name") or ""
    found = [e.required(e.child(path, "name"))] if not name else m.dns_label(name, e.child(path, "name"))
    if not container.get("image"):
        found.append(e.required(e.child(path, "image")))
    policy = container.get("terminationMessagePolicy") or ""
    if not policy:
        found.append(e.required(e.child(path, "terminationMessagePolicy")))
    elif policy not in ("File", "FallbackToLogsOnError"):
        found.append(
            e.not_supported(
                e.child(path, "terminationMessagePolicy"), policy, ("File", "FallbackToLogsOnError")
            )
        )
    found += _ports(container.get("ports") or [], e.child(path, "ports"))
    # Lists and contexts a container leaves out have nothing to report: skipped, not walked (every write).
    if env := container.get("env"):
        found += _env(env, e.child(path, "env"))
    if env_from := container.get("envFrom"):
        found += _env_from(env_from, e.child(path, "envFrom"))
    found += _mounts(container, volumes, e.child(path, "volumeMounts"))
    if container.get("volumeDevices"):
        found += _devices(container, volumes, e.child(path, "volumeDevices"))
    found += pull_policy(container.get("imagePullPolicy") or "", e.child(path, "imagePullPolicy"))
    found += requirements(container.get("resources"), e.child(path, "resources"))
    if resize := container.get("resizePolicy"):
        found += _resize_policy(resize, e.child(path, "resizePolicy"), pod.restart_policy)
    if (context := container.get("securityContext")) is not None:
        where = e.child(path, "securityContext")
        found += container_security_context(context, where, host_users=pod.host_users)
    return found


def _handler(
    handler: Mapping[str, Any], path: str, grace: int | None, *, kinds: tuple[str, ...]
) -> list[Cause]:
    found: list[Cause] = []
    chosen = ""
    for kind in kinds:
        action = handler.get(kind)
        if action is None:
            continue
        where = e.child(path, kind)
        if chosen:
            found.append(e.forbidden(where, "may not specify more than 1 handler type"))
            continue
        chosen = kind
        if kind == "exec" and not action.get("command"):
            found.append(e.required(e.child(where, "command")))
        elif kind == "httpGet":
            if not action.get("path"):
                found.append(e.required(e.child(where, "path")))
            found += port_num_or_name(action.get("port", 0), e.child(where, "port"))
            scheme = action.get("scheme") or ""
            if scheme not in ("HTTP", "HTTPS"):
                found.append(e.not_supported(e.child(where, "scheme"), scheme, ("HTTP", "HTTPS")))
            for header in action.get("httpHeaders") or []:
                header_name = header.get("name") or ""
                found += [
                    e.invalid(e.child(where, "httpHeaders"), header_name, msg)
                    for msg in names.is_http_header_name(header_name)
                ]
        elif kind in ("tcpSocket", "grpc"):
            found += port_num_or_name(action.get("port", 0), e.child(where, "port"))
        elif kind == "sleep":
            seconds = action.get("seconds", 0)
            if grace is not None and not 0 < seconds <= grace:
                detail = (
                    f"must be greater than 0 and less than terminationGracePeriodSeconds ({grace}). "
                    "Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."
                )
                found.append(e.invalid(where, seconds, detail))
    if not chosen:
        found.append(e.required(path, "must specify a handler type"))
    return found


def _probe(probe: Mapping[str, Any] | None, path: str, grace: int | None, *, kind: str) -> list[Cause]:
    if probe is None:
        return []
    found = _handler(probe, path, grace, kinds=("exec", "httpGet", "tcpSocket", "grpc"))
    for field in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        found += e.non_negative(e.child(path, field), probe.get(field, 0))
    probe_grace = probe.get("terminationGracePeriodSeconds")
    if probe_grace is not None and probe_grace <= 0:
        found.append(
            e.invalid(e.child(path, "terminationGracePeriodSeconds"), probe_grace, "must be greater than 0")
        )
    if kind == "readiness" and probe_grace is not None:
        detail = "must not be set for readinessProbes"
        found.append(e.invalid(e.child(path, "terminationGracePeriodSeconds"), probe_grace, detail))
    if kind != "readiness" and probe.get("successThreshold", 1) != 1:
        found.append(e.invalid(e.child(path, "successThreshold"), probe.get("successThreshold"), "must be 1"))
    return found


def _hooks_and_probes(container: Mapping[str, Any], path: str, grace: int | None) -> list[Cause]:
    found: list[Cause] = []
    lifecycle = container.get("lifecycle")
    if lifecycle is not None:
        for hook in ("postStart", "preStop"):
            if lifecycle.get(hook) is not None:
                where = e.child(path, "lifecycle", hook)
                found += _handler(
                    lifecycle[hook], where, grace, kinds=("exec", "httpGet", "tcpSocket", "sleep")
                )
    found += _probe(container.get("livenessProbe"), e.child(path, "livenessProbe"), grace, kind="liveness")
    found += _probe(container.get("readinessProbe"), e.child(path, "readinessProbe"), grace, kind="readiness")
    found += _probe(container.get("startupProbe"), e.child(path, "startupProbe"), grace, kind="startup")
    return found


def _host_port_conflicts(containers: list[dict[str, Any]], path: str) -> list[Cause]:
    found: list[Cause] = []
    seen: set[str] = set()
    for ci, container in enumerate(containers):
        for pi, port in enumerate(container.get("ports") or []):
            host_port = port.get("hostPort") or 0
            if not host_port:
                continue
            identity = f"{port.get('protocol') or ''}/{port.get('hostIP') or ''}/{host_port}"
            if identity in seen:
                found.append(
                    e.duplicate(
                        e.child(e.index(e.child(e.index(path, ci), "ports"), pi), "hostPort"), identity
                    )
                )
            seen.add(identity)
    return found


def regular(items: list[dict[str, Any]], path: str, pod: PodContext) -> list[Cause]:
    """validateContainers: at least one, unique names, probes and hooks allowed."""
    if not items:
        return [e.required(path)]
    found: list[Cause] = []
    seen: set[str] = set()
    for i, container in enumerate(items):
        where = e.index(path, i)
        found += common(container, where, pod)
        name = container.get("name") or ""
        if name in seen:
            found.append(e.duplicate(e.child(where, "name"), name))
        seen.add(name)
        found += _hooks_and_probes(container, where, pod.grace)
        if container.get("restartPolicy") is not None:
            found.append(
                e.forbidden(e.child(where, "restartPolicy"), "may not be set for non-init containers")
            )
    return found + _host_port_conflicts(items, path)


def init(
    items: list[dict[str, Any]], containers: list[dict[str, Any]], path: str, pod: PodContext
) -> list[Cause]:
    """validateInitContainers: names unique across both lists; hooks and probes for sidecars only."""
    found: list[Cause] = []
    seen = {c.get("name") or "" for c in containers}
    for i, container in enumerate(items):
        where = e.index(path, i)
        found += common(container, where, pod)
        policy = container.get("restartPolicy")
        if policy is not None and policy != "Always":
            found.append(e.not_supported(e.child(where, "restartPolicy"), policy, ("Always",)))
        name = container.get("name") or ""
        if name in seen:
            found.append(e.duplicate(e.child(where, "name"), name))
        elif name:
            seen.add(name)
        found += _host_port_conflicts([container], path)
        if policy == "Always":
            found += _hooks_and_probes(container, where, pod.grace)
        else:
            for field in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(field) is not None:
                    found.append(e.forbidden(e.child(where, field), SIDECAR_ONLY))
    return found
