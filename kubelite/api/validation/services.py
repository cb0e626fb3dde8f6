"""Services, Endpoints and EndpointSlices.

A Service needs ports unless it is headless or ExternalName; with several ports each needs a unique
name; its type, session affinity and traffic policies take upstream's values. Once allocated, cluster IPs
never change (except when the Service turns into or out of ExternalName); node ports are checked for range
and collisions by the allocator in the API server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names
from kubelite.api.validation.containers import PROTOCOLS, port_num_or_name

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
IP_FAMILIES = ("IPv4", "IPv6")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
TRAFFIC_POLICIES = ("Cluster", "Local")
MAX_AFFINITY_SECONDS = 86400


def _headless(spec: Mapping[str, Any]) -> bool:
    return (spec.get("clusterIPs") or []) == ["None"]


def _externally_accessible(spec: Mapping[str, Any]) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def _port(port: Mapping[str, Any], path: str, *, require_name: bool, seen: set[str]) -> list[Cause]:
    found: list[Cause] = []
    name = port.get("name") or ""
    if require_name and not name:
        found.append(e.required(e.child(path, "name")))
    elif name:
        found += m.dns_label(name, e.child(path, "name"))
        if name in seen:
            found.append(e.duplicate(e.child(path, "name"), name))
        seen.add(name)
    number = port.get("port", 0)
    found += [e.invalid(e.child(path, "port"), number, msg) for msg in names.is_valid_port_num(number)]
    protocol = port.get("protocol") or ""
    if not protocol:
        found.append(e.required(e.child(path, "protocol")))
    elif protocol not in PROTOCOLS:
        found.append(e.not_supported(e.child(path, "protocol"), protocol, PROTOCOLS))
    found += port_num_or_name(port.get("targetPort", 0), e.child(path, "targetPort"))
    if port.get("appProtocol") is not None:
        found += m.qualified_name(port["appProtocol"], e.child(path, "appProtocol"))
    return found


def non_special_ip(address: str, path: str) -> list[Cause]:
    """ValidateNonSpecialIP: no unspecified, loopback or link-local addresses."""
    ip = names.parse_ip(address)
    if ip is None:
        return [e.invalid(path, address, "must be a valid IP address")]
    found: list[Cause] = []
    if ip.is_unspecified:
        found.append(e.invalid(path, address, f"may not be unspecified ({address})"))
    if ip.is_loopback:
        found.append(e.invalid(path, address, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if ip.is_link_local:
        found.append(
            e.invalid(path, address, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
        )
    if ip.is_multicast and str(ip).startswith(("224.0.0.", "ff02:")):
        found.append(
            e.invalid(path, address, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")
        )
    return found


def _ip_version(address: str) -> int:
    parsed = names.parse_ip(address)
    return parsed.version if parsed is not None else 4


def _cluster_ips(spec: Mapping[str, Any]) -> list[Cause]:
    """ValidateServiceClusterIPsRelatedFields."""
    if spec.get("type") == "ExternalName":
        return []
    found: list[Cause] = []
    cluster_ip, cluster_ips = spec.get("clusterIP") or "", spec.get("clusterIPs") or []
    if cluster_ip:
        if not cluster_ips:
            found.append(e.required("spec.clusterIPs"))
        elif cluster_ips[0] != cluster_ip:
            found.append(
                e.invalid("spec.clusterIPs", e.go_strings(cluster_ips), "first value must match `clusterIP`")
            )
    elif cluster_ips:
        found.append(
            e.invalid(
                "spec.clusterIPs",
                e.go_strings(cluster_ips),
                "must be empty when `clusterIP` is not specified",
            )
        )
    seen: set[str] = set()
    for i, family in enumerate(spec.get("ipFamilies") or []):
        if family not in IP_FAMILIES:
            found.append(e.not_supported(f"spec.ipFamilies[{i}]", family, IP_FAMILIES))
        if family in seen:
            found.append(e.duplicate(f"spec.ipFamilies[{i}]", family))
        seen.add(family)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        found.append(e.not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))
    invalid_ips = False
    for i, address in enumerate(cluster_ips):
        if i == 0 and address == "None":
            if len(cluster_ips) > 1:
                invalid_ips = True
                found.append(
                    e.invalid(
                        "spec.clusterIPs",
                        e.go_strings(cluster_ips),
                        "'None' must be the first and only value",
                    )
                )
            continue
        problems = names.is_valid_ip(address)
        invalid_ips = invalid_ips or bool(problems)
        found += [e.invalid(f"spec.clusterIPs[{i}]", address, msg) for msg in problems]
    if len(cluster_ips) > 2:
        found.append(e.invalid("spec.clusterIPs", e.go_strings(cluster_ips), "may only hold up to 2 values"))
    if invalid_ips:
        return found
    if len(cluster_ips) > 1 and len({_ip_version(address) for address in cluster_ips}) != len(cluster_ips):
        found.append(
            e.invalid(
                "spec.clusterIPs",
                e.go_strings(cluster_ips),
                "may specify no more than one IP for each IP family",
            )
        )
    if not _headless(spec):
        for i, (address, family) in enumerate(zip(cluster_ips, spec.get("ipFamilies") or [], strict=False)):
            version = _ip_version(address)
            if family == "IPv4" and version == 6:
                found.append(
                    e.invalid(
                        f"spec.clusterIPs[{i}]",
                        address,
                        f"expected an IPv4 value as indicated by `ipFamilies[{i}]`",
                    )
                )
            if family == "IPv6" and version != 6:
                found.append(
                    e.invalid(
                        f"spec.clusterIPs[{i}]",
                        address,
                        f"expected an IPv6 value as indicated by `ipFamilies[{i}]`",
                    )
                )
    return found


def _type_rules(spec: Mapping[str, Any]) -> list[Cause]:
    kind = spec.get("type")
    found: list[Cause] = []
    if kind in ("LoadBalancer", "NodePort") and _headless(spec):
        found.append(e.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services"))
    if kind == "ExternalName":
        for field in ("clusterIPs", "ipFamilies"):
            if spec.get(field):
                found.append(e.forbidden(f"spec.{field}", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            found.append(e.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
        cname = (spec.get("externalName") or "").removesuffix(".")
        found += m.dns_subdomain(cname, "spec.externalName") if cname else [e.required("spec.externalName")]
    return found


def _affinity(spec: Mapping[str, Any]) -> list[Cause]:
    affinity = spec.get("sessionAffinity") or ""
    if not affinity:
        return [e.required("spec.sessionAffinity")]
    if affinity not in SESSION_AFFINITIES:
        return [e.not_supported("spec.sessionAffinity", affinity, SESSION_AFFINITIES)]
    config = spec.get("sessionAffinityConfig")
    if affinity == "None":
        return (
            [e.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")]
            if config is not None
            else []
        )
    when = "when session affinity type is ClientIP"
    if config is None:
        return [e.required("spec.sessionAffinityConfig", when)]
    client = config.get("clientIP")
    if client is None:
        return [e.required("spec.sessionAffinityConfig.clientIP", when)]
    timeout = client.get("timeoutSeconds")
    if timeout is None:
        return [e.required("spec.sessionAffinityConfig.clientIP.timeoutSeconds", when)]
    if not 0 < timeout <= MAX_AFFINITY_SECONDS:
        detail = f"must be greater than 0 and less than {MAX_AFFINITY_SECONDS}"
        return [e.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout, detail)]
    return []


def _traffic_policies(spec: Mapping[str, Any]) -> list[Cause]:
    found: list[Cause] = []
    external = spec.get("externalTrafficPolicy") or ""
    if not _externally_accessible(spec):
        if external:
            found.append(
                e.invalid(
                    "spec.externalTrafficPolicy",
                    external,
                    "may only be set for externally-accessible services",
                )
            )
    elif not external:
        found.append(e.required("spec.externalTrafficPolicy"))
    elif external not in TRAFFIC_POLICIES:
        found.append(e.not_supported("spec.externalTrafficPolicy", external, TRAFFIC_POLICIES))
    health = spec.get("healthCheckNodePort") or 0
    if not (spec.get("type") == "LoadBalancer" and external == "Local"):
        if health:
            detail = "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"
            found.append(e.invalid("spec.healthCheckNodePort", health, detail))
    elif not health:
        found.append(e.required("spec.healthCheckNodePort"))
    else:
        found += [
            e.invalid("spec.healthCheckNodePort", health, msg) for msg in names.is_valid_port_num(health)
        ]
    internal = spec.get("internalTrafficPolicy")
    if internal is None and spec.get("type") in ("ClusterIP", "NodePort", "LoadBalancer"):
        found.append(e.required("spec.internalTrafficPolicy"))
    if internal is not None and internal not in TRAFFIC_POLICIES:
        found.append(e.not_supported("spec.internalTrafficPolicy", internal, TRAFFIC_POLICIES))
    distribution = spec.get("trafficDistribution")
    if distribution is not None and distribution != "PreferClose":
        found.append(e.not_supported("spec.trafficDistribution", distribution, ("PreferClose",)))
    return found


def validate_service(service: Mapping[str, Any]) -> list[Cause]:
    """ValidateService (creates and updates)."""
    found = m.object_meta(
        service.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns1035_label
    )
    spec = service.get("spec") or {}
    ports = spec.get("ports") or []
    if not ports and not _headless(spec) and spec.get("type") != "ExternalName":
        found.append(e.required("spec.ports"))
    found += _type_rules(spec)
    seen: set[str] = set()
    for i, port in enumerate(ports):
        found += _port(port, f"spec.ports[{i}]", require_name=len(ports) > 1, seen=seen)
    if spec.get("selector") is not None:
        found += m.labels(spec["selector"], "spec.selector")
    found += _affinity(spec)
    found += _cluster_ips(spec)
    for i, address in enumerate(spec.get("externalIPs") or []):
        problems = names.is_valid_ip(address)
        found += [e.invalid(f"spec.externalIPs[{i}]", address, msg) for msg in problems] or non_special_ip(
            address, f"spec.externalIPs[{i}]"
        )
    kind = spec.get("type") or ""
    if not kind:
        found.append(e.required("spec.type"))
    elif kind not in SERVICE_TYPES:
        found.append(e.not_supported("spec.type", kind, SERVICE_TYPES))
    if kind == "ClusterIP":
        for i, port in enumerate(ports):
            if port.get("nodePort"):
                found.append(
                    e.forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
                )
    node_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        if port.get("nodePort"):
            identity = (port.get("protocol") or "", port["nodePort"])
            if identity in node_ports:
                found.append(e.duplicate(f"spec.ports[{i}].nodePort", port["nodePort"]))
            node_ports.add(identity)
    service_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        identity = (port.get("protocol") or "", port.get("port", 0))
        if identity in service_ports:
            # Upstream prints the (protocol, port) key as the Go struct it is.
            shown = e.GoValue(
                f'core.ServicePort{{Name:"", Protocol:{e.go_quote(identity[0])}, AppProtocol:(*string)(nil), '
                f"Port:{identity[1]}, TargetPort:{e.go_int_or_string(0).text}, NodePort:0}}"
            )
            found.append(e.duplicate(f"spec.ports[{i}]", shown))
        service_ports.add(identity)
    ranges = spec.get("loadBalancerSourceRanges") or []
    if ranges:
        if kind != "LoadBalancer":
            found.append(
                e.forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'")
            )
        for i, cidr in enumerate(ranges):
            found += [
                e.invalid(f"spec.LoadBalancerSourceRanges[{i}]", cidr.strip(), msg)
                for msg in names.is_valid_cidr(cidr.strip())
            ]
    if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
        found.append(
            e.forbidden(
                "spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"
            )
        )
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        found.append(e.required("allocateLoadBalancerNodePorts"))
    if spec.get("loadBalancerClass") is not None:
        if kind == "LoadBalancer":
            found += m.qualified_name(spec["loadBalancerClass"], "spec.loadBalancerClass")
        else:
            found.append(
                e.forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'")
            )
    return found + _traffic_policies(spec)


def validate_service_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    """ValidateServiceUpdate: allocated cluster IPs and families stay unless ExternalName is involved."""
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    if "ExternalName" not in (spec.get("type"), old_spec.get("type")) and not (
        _headless(spec) and _headless(old_spec)
    ):
        found += _cluster_ip_changes(spec.get("clusterIPs") or [], old_spec.get("clusterIPs") or [], spec)
    if old_spec.get("type") == "LoadBalancer" and spec.get("type") == "LoadBalancer":
        if old_spec.get("loadBalancerClass") != spec.get("loadBalancerClass"):
            found.append(
                e.invalid("spec.loadBalancerClass", spec.get("loadBalancerClass"), "may not change once set")
            )
    both_need_health = all(
        s.get("type") == "LoadBalancer" and s.get("externalTrafficPolicy") == "Local"
        for s in (spec, old_spec)
    )
    if both_need_health and spec.get("healthCheckNodePort") != old_spec.get("healthCheckNodePort"):
        found.append(e.forbidden("spec.healthCheckNodePort", "field is immutable"))
    return found + validate_service(new)


def _cluster_ip_changes(ips: list[str], old_ips: list[str], spec: Mapping[str, Any]) -> list[Cause]:
    shown = e.go_strings(ips)
    if len(ips) == len(old_ips):
        return [
            e.invalid(f"spec.clusterIPs[{i}]", shown, "may not change once set")
            for i, ip in enumerate(old_ips)
            if ip != ips[i]
        ]
    found: list[Cause] = []
    if len(old_ips) > len(ips):
        if not ips:
            found.append(e.invalid("spec.clusterIPs[0]", shown, "primary clusterIP can not be unset"))
        elif old_ips and ips[0] != old_ips[0]:
            found.append(e.invalid("spec.clusterIPs[0]", shown, "may not change once set"))
        if len(ips) == 1 and spec.get("ipFamilyPolicy") != "SingleStack":
            detail = "must be set to 'SingleStack' when releasing the secondary clusterIP"
            found.append(e.invalid("spec.ipFamilyPolicy", spec.get("ipFamilyPolicy"), detail))
    elif old_ips and ips[0] != old_ips[0]:
        found.append(e.invalid("spec.clusterIPs[0]", shown, "may not change once set"))
    return found


def _endpoint_port(port: Mapping[str, Any], path: str, *, require_name: bool) -> list[Cause]:
    found: list[Cause] = []
    name = port.get("name") or ""
    if require_name and not name:
        found.append(e.required(e.child(path, "name")))
    elif name:
        found += m.dns_label(name, e.child(path, "name"))
    number = port.get("port", 0)
    found += [e.invalid(e.child(path, "port"), number, msg) for msg in names.is_valid_port_num(number)]
    protocol = port.get("protocol") or ""
    if not protocol:
        found.append(e.required(e.child(path, "protocol")))
    elif protocol not in PROTOCOLS:
        found.append(e.not_supported(e.child(path, "protocol"), protocol, PROTOCOLS))
    if port.get("appProtocol") is not None:
        found += m.qualified_name(port["appProtocol"], e.child(path, "appProtocol"))
    return found


def validate_endpoints(endpoints: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta(
        endpoints.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain
    )
    for i, subset in enumerate(endpoints.get("subsets") or []):
        where = f"subsets[{i}]"
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            found.append(e.required(where, "must specify `addresses` or `notReadyAddresses`"))
        for kind in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(subset.get(kind) or []):
                at = f"{where}.{kind}[{j}]"
                ip = address.get("ip") or ""
                found += [e.invalid(f"{at}.ip", ip, msg) for msg in names.is_valid_ip(ip)]
                if address.get("hostname"):
                    found += m.dns_label(address["hostname"], f"{at}.hostname")
                if address.get("nodeName") is not None:
                    found += [
                        e.invalid(f"{at}.nodeName", address["nodeName"], msg)
                        for msg in names.is_dns1123_subdomain(address["nodeName"])
                    ]
                found += non_special_ip(ip, f"{at}.ip")
        ports = subset.get("ports") or []
        for j, port in enumerate(ports):
            found += _endpoint_port(port, f"{where}.ports[{j}]", require_name=len(ports) > 1)
    return found


def validate_endpoint_slice(endpoint_slice: Mapping[str, Any]) -> list[Cause]:
    """ValidateEndpointSlice: address type, addresses of that type, ports."""
    found = m.object_meta(
        endpoint_slice.get("metadata") or {}, namespaced=True, name_rule=names.name_is_dns_subdomain
    )
    address_type = endpoint_slice.get("addressType") or ""
    if address_type not in ("IPv4", "IPv6", "FQDN"):
        found.append(e.not_supported("addressType", address_type, ("FQDN", "IPv4", "IPv6")))
    for i, endpoint in enumerate(endpoint_slice.get("endpoints") or []):
        addresses = endpoint.get("addresses") or []
        if not addresses:
            found.append(e.required(f"endpoints[{i}].addresses", "must contain at least 1 address"))
        for j, address in enumerate(addresses):
            where = f"endpoints[{i}].addresses[{j}]"
            if address_type in ("IPv4", "IPv6"):
                parsed = names.parse_ip(address)
                if parsed is None or parsed.version != (4 if address_type == "IPv4" else 6):
                    found.append(e.invalid(where, address, f"must be a valid {address_type} address"))
            elif address_type == "FQDN":
                found += m.dns_subdomain(address, where)
        if endpoint.get("hostname") is not None:
            found += m.dns_label(endpoint["hostname"], f"endpoints[{i}].hostname")
    seen: set[str] = set()
    for i, port in enumerate(endpoint_slice.get("ports") or []):
        where = f"ports[{i}]"
        name = port.get("name") or ""
        if name:
            found += m.dns_label(name, f"{where}.name")
        if name in seen:
            found.append(e.duplicate(f"{where}.name", name))
        seen.add(name)
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            found.append(e.not_supported(f"{where}.protocol", protocol, PROTOCOLS))
        number = port.get("port")
        if number is not None:
            found += [e.invalid(f"{where}.port", number, msg) for msg in names.is_valid_port_num(number)]
    return found
