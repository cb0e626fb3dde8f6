"""spec.ipFamilies and spec.ipFamilyPolicy, settled before cluster IPs are allocated.

kubelite serves one family (the service CIDR's), so families are inferred from given cluster IPs,
defaulted to the cluster's family and checked against it with upstream's messages. Headless Services
without a selector are upstream's special case: they default to RequireDualStack and list both families,
since they never get an address.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.apiserver.services.spec import HEADLESS, needs_cluster_ip, spec_of

SINGLE_STACK = "SingleStack"
REQUIRE_DUAL_STACK = "RequireDualStack"
_KNOWN = ("IPv4", "IPv6")


def family_of(address: str) -> str | None:
    try:
        return "IPv4" if ipaddress.ip_address(address).version == 4 else "IPv6"
    except ValueError:
        return None


def _other(family: str) -> str:
    return "IPv6" if family == "IPv4" else "IPv4"


def _reduction_causes(spec: dict[str, Any], old_spec: dict[str, Any], policy: Any) -> list[Cause]:
    """Updates: dropping the secondary IP or family needs an explicit SingleStack policy."""
    ips, old_ips = spec.get("clusterIPs") or [], old_spec.get("clusterIPs") or []
    families, old_families = spec.get("ipFamilies") or [], old_spec.get("ipFamilies") or []
    if policy == SINGLE_STACK:
        if ips == old_ips and len(ips) > 1:
            spec["clusterIPs"] = ips[:1]
        if families == old_families and len(families) > 1:
            spec["ipFamilies"] = families[:1]
        return []
    causes = []
    for count, old_count, what in (
        (len(ips), len(old_ips), "cluster IP"),
        (len(families), len(old_families), "IP family"),
    ):
        if 0 < count < old_count:
            detail = f"must be 'SingleStack' to release the secondary {what}"
            causes.append(e.invalid("spec.ipFamilyPolicy", policy, detail))
    return causes


def settle(svc: dict[str, Any], old: dict[str, Any] | None, *, cluster_family: str) -> list[Cause]:
    """Fill ipFamilies and ipFamilyPolicy in place; the problems found (nothing is filled then)."""
    if not needs_cluster_ip(svc):
        return []
    spec = spec_of(svc)
    policy = spec.get("ipFamilyPolicy")
    causes = _reduction_causes(spec, spec_of(old), policy) if old is not None else []
    ips: list[str] = list(spec.get("clusterIPs") or [])
    families: list[str] = list(spec.get("ipFamilies") or [])
    if (policy or SINGLE_STACK) == SINGLE_STACK:
        for count, what in ((len(ips), "cluster IPs"), (len(families), "IP families")):
            if count == 2:
                detail = f"must be 'RequireDualStack' or 'PreferDualStack' when multiple {what} are specified"
                causes.append(e.invalid("spec.ipFamilyPolicy", policy, detail))
    for i, address in enumerate(ips):
        if address == HEADLESS:
            break
        family = family_of(address)
        if family is None or i < len(families):
            continue  # malformed addresses and mismatched families are validation's to report
        if family != cluster_family:
            detail = f"{family} is not configured on this cluster"
            causes.append(e.invalid(f"spec.clusterIPs[{i}]", e.go_strings(ips), detail))
        else:
            families.append(family)
    if causes:
        return causes
    if policy is None and len(families) == 2:
        policy = REQUIRE_DUAL_STACK
    if spec.get("clusterIP") == HEADLESS and not spec.get("selector"):
        policy = policy or REQUIRE_DUAL_STACK
        families = families or [cluster_family]
        if len(families) < 2 and policy != SINGLE_STACK and families[0] in _KNOWN:
            families.append(_other(families[0]))
        spec["ipFamilies"], spec["ipFamilyPolicy"] = families, policy
        return []
    policy = policy or SINGLE_STACK
    if policy == REQUIRE_DUAL_STACK:
        detail = "this cluster is not configured for dual-stack services"
        causes.append(e.invalid("spec.ipFamilyPolicy", policy, detail))
    for i, family in enumerate(families):
        if family in _KNOWN and family != cluster_family:
            causes.append(e.invalid(f"spec.ipFamilies[{i}]", family, "not configured on this cluster"))
    if causes:
        return causes
    spec["ipFamilies"], spec["ipFamilyPolicy"] = families or [cluster_family], policy
    return []
