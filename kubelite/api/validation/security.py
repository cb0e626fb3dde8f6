"""Security contexts of pods and containers: user and group ids, seccomp and AppArmor profiles, sysctls."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import names
from kubelite.api.validation.volumes import local_descending_path

_MAX_ID = 0xFFFFFFFF
_SYSCTL_SEGMENT = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
_SYSCTL_FMT = f"^({_SYSCTL_SEGMENT}[\\./])*{_SYSCTL_SEGMENT}$"
_SYSCTL = re.compile(_SYSCTL_FMT)
SECCOMP_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
FS_GROUP_POLICIES = ("Always", "OnRootMismatch")
SUPPLEMENTAL_GROUPS_POLICIES = ("Merge", "Strict")
SELINUX_CHANGE_POLICIES = ("MountOption", "Recursive")
# Sysctls living in the network and IPC namespaces, refused when the pod shares the host's.
_NET_SYSCTLS = ("net.",)
_IPC_SYSCTLS = ("kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue.")


def _id(value: int | None, path: str) -> list[Cause]:
    if value is None or 0 <= value <= _MAX_ID:
        return []
    return [e.invalid(path, value, names.inclusive_range_error(0, _MAX_ID))]


def seccomp_profile(profile: Mapping[str, Any] | None, path: str) -> list[Cause]:
    if profile is None:
        return []
    kind = profile.get("type") or ""
    found: list[Cause] = []
    if not kind:
        found.append(e.required(e.child(path, "type"), "type is required when seccompProfile is set"))
    elif kind not in SECCOMP_TYPES:
        found.append(e.not_supported(e.child(path, "type"), kind, SECCOMP_TYPES))
    localhost = profile.get("localhostProfile")
    if kind == "Localhost":
        if localhost is None:
            detail = "must be set when seccomp type is Localhost"
            found.append(e.required(e.child(path, "localhostProfile"), detail))
        else:
            found += local_descending_path(localhost, e.child(path, "localhostProfile"))
    elif localhost is not None:
        detail = "can only be set when seccomp type is Localhost"
        found.append(e.invalid(e.child(path, "localhostProfile"), profile, detail))
    return found


def apparmor_profile(profile: Mapping[str, Any] | None, path: str) -> list[Cause]:
    if profile is None:
        return []
    kind = profile.get("type") or ""
    localhost = profile.get("localhostProfile")
    where = e.child(path, "localhostProfile")
    if kind == "Localhost":
        if localhost is None or localhost == "":
            return [e.required(where, "must be set when AppArmor type is Localhost")]
        found = (
            [e.invalid(where, localhost, "must not be padded with whitespace")]
            if localhost != localhost.strip()
            else []
        )
        return found + ([e.too_long(where, 4095)] if len(localhost) > 4095 else [])
    if kind in ("RuntimeDefault", "Unconfined"):
        if localhost is not None:
            return [e.invalid(where, localhost, "can only be set when AppArmor type is Localhost")]
        return []
    if not kind:
        return [e.required(e.child(path, "type"), "type is required when appArmorProfile is set")]
    return [e.not_supported(e.child(path, "type"), kind, ("Localhost", "RuntimeDefault", "Unconfined"))]


def _sysctls(context: Mapping[str, Any], path: str) -> list[Cause]:
    found: list[Cause] = []
    seen: set[str] = set()
    for i, sysctl in enumerate(context.get("sysctls") or []):
        where = e.child(e.index(path, i), "name")
        name = sysctl.get("name") or ""
        if not name:
            found.append(e.required(where))
        elif len(name) > 253 or not _SYSCTL.match(name):
            detail = f"must have at most 253 characters and match regex {_SYSCTL_FMT}"
            found.append(e.invalid(where, name, detail))
        elif name in seen:
            found.append(e.duplicate(where, name))
        if context.get("hostNetwork") and name.startswith(_NET_SYSCTLS):
            found.append(e.invalid(where, name, "may not be specified when 'hostNetwork' is true"))
        if context.get("hostIPC") and name.startswith(_IPC_SYSCTLS):
            found.append(e.invalid(where, name, "may not be specified when 'hostIPC' is true"))
        seen.add(name)
    return found


def pod_security_context(
    context: Mapping[str, Any] | None, path: str, *, host_network: bool, host_ipc: bool, host_pid: bool
) -> list[Cause]:
    """validatePodSpecSecurityContext; host namespaces live on the pod spec in v1."""
    if context is None:
        return []
    found = _id(context.get("fsGroup"), e.child(path, "fsGroup"))
    found += _id(context.get("runAsUser"), e.child(path, "runAsUser"))
    found += _id(context.get("runAsGroup"), e.child(path, "runAsGroup"))
    for i, gid in enumerate(context.get("supplementalGroups") or []):
        found += _id(gid, e.index(e.child(path, "supplementalGroups"), i))
    if host_pid and context.get("shareProcessNamespace"):
        detail = "ShareProcessNamespace and HostPID cannot both be enabled"
        found.append(e.invalid(e.child(path, "shareProcessNamespace"), True, detail))
    found += _sysctls({**context, "hostNetwork": host_network, "hostIPC": host_ipc}, e.child(path, "sysctls"))
    for field, allowed in (
        ("fsGroupChangePolicy", FS_GROUP_POLICIES),
        ("supplementalGroupsPolicy", SUPPLEMENTAL_GROUPS_POLICIES),
        ("seLinuxChangePolicy", SELINUX_CHANGE_POLICIES),
    ):
        value = context.get(field)
        if value is not None and value not in allowed:
            found.append(e.not_supported(e.child(path, field), value, allowed))
    found += seccomp_profile(context.get("seccompProfile"), e.child(path, "seccompProfile"))
    return found + apparmor_profile(context.get("appArmorProfile"), e.child(path, "appArmorProfile"))


def container_security_context(
    context: Mapping[str, Any] | None, path: str, *, host_users: bool
) -> list[Cause]:
    """ValidateSecurityContext of one container."""
    if context is None:
        return []
    found = _id(context.get("runAsUser"), e.child(path, "runAsUser"))
    found += _id(context.get("runAsGroup"), e.child(path, "runAsGroup"))
    proc_mount = context.get("procMount")
    if proc_mount is not None:
        if proc_mount not in ("Default", "Unmasked"):
            found.append(e.not_supported(e.child(path, "procMount"), proc_mount, ("Default", "Unmasked")))
        if host_users and proc_mount == "Unmasked":
            found.append(
                e.invalid(
                    e.child(path, "procMount"), proc_mount, "`hostUsers` must be false to use `Unmasked`"
                )
            )
    found += seccomp_profile(context.get("seccompProfile"), e.child(path, "seccompProfile"))
    if context.get("allowPrivilegeEscalation") is False:
        if context.get("privileged"):
            detail = "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
            found.append(e.invalid(path, context, detail))
        if "CAP_SYS_ADMIN" in ((context.get("capabilities") or {}).get("add") or []):
            detail = "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"
            found.append(e.invalid(path, context, detail))
    return found + apparmor_profile(context.get("appArmorProfile"), e.child(path, "appArmorProfile"))
