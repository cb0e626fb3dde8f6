"""The downward API: pod fields and container resources as strings, for env vars and downwardAPI volumes.

Values are spelled as the kubelet spells them: labels and annotations as sorted `key="value"` lines with Go's
%q quoting, resources rounded up to whole multiples of the divisor, and a container without a limit seeing
the node's allocatable instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.api import quantity

JSON = dict[str, Any]

# The fieldRef paths a downwardAPI volume may use (env vars also get spec.* and status.*).
VOLUME_FIELDS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.labels",
    "metadata.annotations",
)
_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.*)'\]$")
_CPU_MEMORY_DEFAULTED = ("cpu", "memory", "ephemeral-storage")
_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


class DownwardError(Exception):
    """A fieldRef or resourceFieldRef that cannot be resolved; the message is upstream's."""


def go_quote(text: str) -> str:
    """Go's strconv.Quote for valid UTF-8 text."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif (code := ord(ch)) < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def format_map(values: Mapping[str, str]) -> str:
    """fieldpath.FormatMap: one `key="value"` line per entry, sorted, no trailing newline."""
    return "\n".join(f"{key}={go_quote(values[key])}" for key in sorted(values))


def metadata_value(pod: JSON, field_path: str) -> str:
    """fieldpath.ExtractFieldPathAsString for the metadata paths both env and volumes allow."""
    meta = pod.get("metadata") or {}
    if subscript := _SUBSCRIPT.match(field_path):
        values = meta.get(subscript.group(1)) or {}
        return str(values.get(subscript.group(2), ""))
    if field_path in ("metadata.labels", "metadata.annotations"):
        return format_map(meta.get(field_path.split(".", 1)[1]) or {})
    if field_path in ("metadata.name", "metadata.namespace", "metadata.uid"):
        return str(meta.get(field_path.split(".", 1)[1], ""))
    raise DownwardError(f"unsupported fieldPath: {field_path}")


def env_field_value(pod: JSON, field_path: str, *, pod_ips: Sequence[str], host_ips: Sequence[str]) -> str:
    """podFieldSelectorRuntimeValue: what an env var's fieldRef reads."""
    spec = pod.get("spec") or {}
    match field_path:
        case "spec.nodeName":
            return str(spec.get("nodeName", ""))
        case "spec.serviceAccountName":
            return str(spec.get("serviceAccountName", ""))
        case "status.hostIP":
            return host_ips[0] if host_ips else ""
        case "status.hostIPs":
            return ",".join(host_ips)
        case "status.podIP":
            return pod_ips[0] if pod_ips else ""
        case "status.podIPs":
            return ",".join(pod_ips)
    return metadata_value(pod, field_path)


def volume_field_value(pod: JSON, field_path: str) -> str:
    if field_path not in VOLUME_FIELDS and not _SUBSCRIPT.match(field_path):
        raise DownwardError(f"unsupported fieldPath: {field_path}")
    return metadata_value(pod, field_path)


def status_ips(pod: JSON, plural: str, singular: str) -> list[str]:
    """The pod's IPs (podIPs/podIP or hostIPs/hostIP) as its status reports them."""
    status = pod.get("status") or {}
    ips = [str(entry.get("ip")) for entry in status.get(plural) or [] if entry.get("ip")]
    if not ips and status.get(singular):
        ips = [str(status[singular])]
    return ips


def find_container(pod: JSON, name: str) -> JSON | None:
    spec = pod.get("spec") or {}
    for kind in ("containers", "initContainers"):
        for container in spec.get(kind) or []:
            if container.get("name") == name:
                return dict(container)
    return None


def resource_value(container: JSON, ref: JSON, allocatable: Mapping[str, str]) -> str:
    """containerResourceRuntimeValue: `limits.cpu` etc. of the container, divided by the divisor and rounded
    up; limits the container leaves unset read as the node's allocatable."""
    resource = str(ref.get("resource", ""))
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or not name:
        raise DownwardError(f"unsupported container resource : {resource}")
    if name not in ("cpu", "memory", "ephemeral-storage") and not name.startswith("hugepages-"):
        raise DownwardError(f"unsupported container resource : {resource}")
    resources = container.get("resources") or {}
    values: Mapping[str, Any] = resources.get(kind) or {}
    if kind == "limits" and name in _CPU_MEMORY_DEFAULTED and name not in values:
        values = allocatable
    amount = quantity.parse(values[name]).value if name in values else 0
    divisor_text = ref.get("divisor")
    divisor = quantity.parse(divisor_text).value if divisor_text not in (None, "", 0, "0") else 1
    if divisor == 0:
        divisor = 1
    if name == "cpu":
        # Compared in millicores, as Quantity.MilliValue() rounds.
        return str(math.ceil(math.ceil(amount * 1000) / math.ceil(divisor * 1000)))
    return str(math.ceil(math.ceil(amount) / math.ceil(divisor)))


def container_resource_value(
    pod: JSON, default_container: JSON | None, ref: JSON, allocatable: Mapping[str, str]
) -> str:
    name = ref.get("containerName")
    if name:
        container = find_container(pod, str(name))
        if container is None:
            raise DownwardError(f"cannot find container: {name}")
    elif default_container is not None:
        container = default_container
    else:
        raise DownwardError("resourceFieldRef needs a containerName")
    return resource_value(container, ref, allocatable)
