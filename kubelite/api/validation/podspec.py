"""Pod specs and pod templates: the part of ValidatePodSpec every workload shares.

`pod_spec` validates the spec of a Pod (`for_pod=True`, stricter about host ports and images) or of a
template embedded in a workload; `template_spec` adds the template's labels and annotations. Both expect a
defaulted spec: restartPolicy, dnsPolicy and terminationGracePeriodSeconds are required values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import containers as c
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names
from kubelite.api.validation.names import NameRule
from kubelite.api.validation.scheduling import affinity, tolerations, topology_spread
from kubelite.api.validation.security import pod_security_context
from kubelite.api.validation.volumes import local_descending_path, volumes

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
MAX_INT32 = 2**31 - 1
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
_INT = re.compile(r"^[+-]?[0-9]+$")


def _all_containers(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        *(spec.get("initContainers") or []),
        *(spec.get("containers") or []),
        *(spec.get("ephemeralContainers") or []),
    ]


def _seccomp_annotation(profile: str, path: str) -> list[Cause]:
    if profile in ("runtime/default", "docker/default", "unconfined"):
        return []
    if profile.startswith("localhost/"):
        return local_descending_path(profile.removeprefix("localhost/"), path)
    return [e.invalid(path, profile, "must be a valid seccomp profile")]


def pod_annotations(annotations: Mapping[str, str] | None, spec: Mapping[str, Any], path: str) -> list[Cause]:
    """ValidatePodSpecificAnnotations: mirror pods, deletion cost, seccomp and AppArmor annotations."""
    annotations = annotations or {}
    found: list[Cause] = []
    if MIRROR_POD_ANNOTATION in annotations and not spec.get("nodeName"):
        detail = "must set spec.nodeName if mirror pod annotation is set"
        found.append(
            e.invalid(e.key(path, MIRROR_POD_ANNOTATION), annotations[MIRROR_POD_ANNOTATION], detail)
        )
    cost = annotations.get(DELETION_COST_ANNOTATION)
    if cost is not None:
        if not _INT.match(cost) or not -(2**31) <= int(cost) <= MAX_INT32:
            found.append(e.invalid(e.key(path, DELETION_COST_ANNOTATION), cost, "must be a 32bit integer"))
    if SECCOMP_POD_ANNOTATION in annotations:
        found += _seccomp_annotation(
            annotations[SECCOMP_POD_ANNOTATION], e.child(path, SECCOMP_POD_ANNOTATION)
        )
    container_names = {ctr.get("name") for ctr in _all_containers(spec)}
    for name, value in annotations.items():
        if name.startswith(SECCOMP_CONTAINER_ANNOTATION_PREFIX):
            found += _seccomp_annotation(value, e.child(path, name))
        if name.startswith(APPARMOR_ANNOTATION_PREFIX):
            container = name.removeprefix(APPARMOR_ANNOTATION_PREFIX)
            if container not in container_names:
                found.append(e.invalid(e.key(path, name), container, "container not found"))
            if value not in ("", "runtime/default", "unconfined") and not value.startswith("localhost/"):
                found.append(e.invalid(e.key(path, name), value, f'invalid AppArmor profile name: "{value}"'))
    return found


def _host_network_ports(spec: Mapping[str, Any], path: str, *, for_pod: bool) -> list[Cause]:
    if not spec.get("hostNetwork"):
        return []
    found: list[Cause] = []
    for i, container in enumerate(spec.get("containers") or []):
        for j, port in enumerate(container.get("ports") or []):
            host_port, container_port = port.get("hostPort") or 0, port.get("containerPort") or 0
            if (for_pod or host_port) and host_port != container_port:
                where = e.child(
                    e.index(e.child(e.index(e.child(path, "containers"), i), "ports"), j), "hostPort"
                )
                found.append(
                    e.invalid(where, host_port, "must match `containerPort` when `hostNetwork` is true")
                )
    return found


def _dns_config(config: Mapping[str, Any] | None, policy: str, path: str) -> list[Cause]:
    if policy == "None":
        if config is None:
            return [e.required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not config.get("nameservers"):
            detail = "must provide at least one DNS nameserver when `dnsPolicy` is None"
            return [e.required(e.child(path, "nameservers"), detail)]
    if config is None:
        return []
    found: list[Cause] = []
    servers = config.get("nameservers") or []
    if len(servers) > 3:
        found.append(
            e.invalid(
                e.child(path, "nameservers"), e.go_strings(servers), "must not have more than 3 nameservers"
            )
        )
    for i, server in enumerate(servers):
        found += [
            e.invalid(e.index(e.child(path, "nameservers"), i), server, msg)
            for msg in names.is_valid_ip(server)
        ]
    searches = config.get("searches") or []
    if len(searches) > 32:
        found.append(
            e.invalid(
                e.child(path, "searches"), e.go_strings(searches), "must not have more than 32 search paths"
            )
        )
    if len(" ".join(searches)) > 2048:
        detail = "must not have more than 2048 characters (including spaces) in the search list"
        found.append(e.invalid(e.child(path, "searches"), e.go_strings(searches), detail))
    for i, search in enumerate(searches):
        found += m.dns_subdomain(search.removesuffix("."), e.index(e.child(path, "searches"), i))
    for i, option in enumerate(config.get("options") or []):
        if not option.get("name"):
            found.append(e.required(e.index(e.child(path, "options"), i), "must not be empty"))
    return found


def _named(value: str | None, path: str, rule: NameRule = names.name_is_dns_subdomain) -> list[Cause]:
    return [e.invalid(path, value, msg) for msg in rule(value, False)] if value else []


def _os(spec: Mapping[str, Any], path: str) -> list[Cause]:
    os_name = (spec.get("os") or {}).get("name") or ""
    if not os_name:
        return [e.required(e.child(path, "os", "name"), "cannot be empty")]
    if os_name not in ("linux", "windows"):
        return [e.not_supported(e.child(path, "os"), os_name, ("linux", "windows"))]
    found: list[Cause] = []
    if os_name == "linux":
        if (spec.get("securityContext") or {}).get("windowsOptions") is not None:
            found.append(
                e.forbidden(
                    e.child(path, "securityContext", "windowsOptions"),
                    "windows options cannot be set for a linux pod",
                )
            )
        for kind in ("initContainers", "containers", "ephemeralContainers"):
            for i, container in enumerate(spec.get(kind) or []):
                if (container.get("securityContext") or {}).get("windowsOptions") is not None:
                    where = e.child(e.index(e.child(path, kind), i), "securityContext", "windowsOptions")
                    found.append(e.forbidden(where, "windows options cannot be set for a linux pod"))
    return found


def pod_spec(spec: Mapping[str, Any], path: str, *, for_pod: bool, pod_name: str = "") -> list[Cause]:
    """ValidatePodSpec."""
    found: list[Cause] = []
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is None:
        found.append(e.required(e.child(path, "terminationGracePeriodSeconds")))
    context = spec.get("securityContext") or {}
    host_users = context.get("hostUsers") is not False
    restart_policy = spec.get("restartPolicy") or ""
    valid_volumes, problems = volumes(spec.get("volumes") or [], e.child(path, "volumes"), pod_name=pod_name)
    found += problems
    if for_pod:
        for i, volume in enumerate(spec.get("volumes") or []):
            if volume.get("image") is not None and not volume["image"].get("reference"):
                found.append(e.required(e.child(e.index(e.child(path, "volumes"), i), "image", "reference")))
    containers = spec.get("containers") or []
    context = c.PodContext(
        volumes=valid_volumes, grace=grace, restart_policy=restart_policy, host_users=host_users
    )
    found += c.regular(containers, e.child(path, "containers"), context)
    # Optional fields a spec leaves out have nothing to report: skipped, not walked (every pod write).
    if init_containers := spec.get("initContainers"):
        found += c.init(init_containers, containers, e.child(path, "initContainers"), context)
    found += _host_network_ports(spec, path, for_pod=for_pod)
    if not restart_policy:
        found.append(e.required(e.child(path, "restartPolicy")))
    elif restart_policy not in RESTART_POLICIES:
        found.append(e.not_supported(e.child(path, "restartPolicy"), restart_policy, RESTART_POLICIES))
    dns_policy = spec.get("dnsPolicy") or ""
    if not dns_policy:
        found.append(e.required(e.child(path, "dnsPolicy")))
    elif dns_policy not in DNS_POLICIES:
        found.append(e.not_supported(e.child(path, "dnsPolicy"), dns_policy, DNS_POLICIES))
    if node_selector := spec.get("nodeSelector"):
        found += m.labels(node_selector, e.child(path, "nodeSelector"))
    found += pod_security_context(
        spec.get("securityContext"),
        e.child(path, "securityContext"),
        host_network=bool(spec.get("hostNetwork")),
        host_ipc=bool(spec.get("hostIPC")),
        host_pid=bool(spec.get("hostPID")),
    )
    for i, secret in enumerate(spec.get("imagePullSecrets") or []):
        if set(secret) - {"name"}:
            found.append(
                e.invalid(e.index(e.child(path, "imagePullSecrets"), i), secret, "only name may be set")
            )
    if (pod_affinity := spec.get("affinity")) is not None:
        found += affinity(pod_affinity, e.child(path, "affinity"))
    found += _dns_config(spec.get("dnsConfig"), dns_policy, e.child(path, "dnsConfig"))
    for i, gate in enumerate(spec.get("readinessGates") or []):
        found += m.qualified_name(
            gate.get("conditionType") or "",
            e.child(e.index(e.child(path, "readinessGates"), i), "conditionType"),
        )
    seen_gates: set[str] = set()
    for i, gate in enumerate(spec.get("schedulingGates") or []):
        where = e.index(e.child(path, "schedulingGates"), i)
        found += m.qualified_name(gate.get("name") or "", where)
        if gate.get("name") in seen_gates:
            found.append(e.duplicate(where, gate.get("name")))
        seen_gates.add(gate.get("name") or "")
    if spread := spec.get("topologySpreadConstraints"):
        found += topology_spread(spread, e.child(path, "topologySpreadConstraints"))
    if not host_users:
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(field):
                shown = field if field == "hostNetwork" else field[0].upper() + field[1:]
                found.append(e.forbidden(e.child(path, shown), "when `pod.Spec.HostUsers` is false"))
    found += _named(spec.get("serviceAccountName"), e.child(path, "serviceAccountName"))
    if node_name := spec.get("nodeName"):
        found += _named(node_name, e.child(path, "nodeName"))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        found.append(
            e.invalid(
                e.child(path, "activeDeadlineSeconds"), deadline, names.inclusive_range_error(1, MAX_INT32)
            )
        )
    for field in ("hostname", "subdomain"):
        if spec.get(field):
            found += m.dns_label(spec[field], e.child(path, field))
    found += tolerations(spec.get("tolerations") or [], e.child(path, "tolerations"))
    for i, alias in enumerate(spec.get("hostAliases") or []):
        where = e.index(e.child(path, "hostAliases"), i)
        found += [
            e.invalid(e.child(where, "ip"), alias.get("ip") or "", msg)
            for msg in names.is_valid_ip(alias.get("ip") or "")
        ]
        for j, hostname in enumerate(alias.get("hostnames") or []):
            found += m.dns_subdomain(hostname, e.index(e.child(where, "hostnames"), j))
    if priority_class := spec.get("priorityClassName"):
        found += _named(priority_class, e.child(path, "priorityClassName"))
    if spec.get("runtimeClassName") is not None:
        found += [
            e.invalid(e.child(path, "runtimeClassName"), spec["runtimeClassName"], msg)
            for msg in names.is_dns1123_subdomain(spec["runtimeClassName"])
        ]
    preemption = spec.get("preemptionPolicy")
    if preemption is not None and preemption not in ("PreemptLowerPriority", "Never"):
        found.append(
            e.not_supported(e.child(path, "preemptionPolicy"), preemption, ("PreemptLowerPriority", "Never"))
        )
    if spec.get("os") is not None:
        found += _os(spec, path)
    return found


def template_spec(template: Mapping[str, Any] | None, path: str) -> list[Cause]:
    """ValidatePodTemplateSpec: labels and annotations (upstream reports them on the template's own path,
    not under metadata), then the pod spec; ephemeral containers have no place in a template."""
    template = template or {}
    meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    found = m.labels(meta.get("labels"), e.child(path, "labels"))
    found += m.annotation_map(meta.get("annotations"), e.child(path, "annotations"))
    found += pod_annotations(meta.get("annotations"), spec, e.child(path, "annotations"))
    found += pod_spec(spec, e.child(path, "spec"), for_pod=False)
    if spec.get("ephemeralContainers"):
        found.append(
            e.forbidden(
                e.child(path, "spec", "ephemeralContainers"),
                "ephemeral containers not allowed in pod template",
            )
        )
    return found
