"""Field selectors (`?fieldSelector=spec.nodeName=n1,status.phase!=Failed`).

Every kind supports metadata.name and metadata.namespace; a few kinds support more, listed in `EXTRA_FIELDS`
(the same fields upstream accepts). Asking for any other field is a 400, as upstream answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_COMMON = ("metadata.name", "metadata.namespace")

# (group, plural resource) -> the extra field paths that kind can be selected on.
EXTRA_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "pods"): (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    ("", "secrets"): ("type",),
    ("", "namespaces"): ("status.phase",),
    ("", "nodes"): ("spec.unschedulable",),
    ("", "services"): ("spec.clusterIP", "spec.type"),
    ("", "replicationcontrollers"): ("status.replicas",),
    ("apps", "replicasets"): ("status.replicas",),
    ("batch", "jobs"): ("status.successful",),
    ("certificates.k8s.io", "certificatesigningrequests"): ("spec.signerName",),
    ("", "events"): (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    ("events.k8s.io", "events"): (
        "regarding.kind",
        "regarding.namespace",
        "regarding.name",
        "regarding.uid",
        "reason",
        "reportingController",
        "type",
    ),
}


class FieldSelectorError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    equals: bool  # True for = / ==, False for !=
    value: str


@dataclass(frozen=True, slots=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all((field_value(obj, r.field) == r.value) == r.equals for r in self.requirements)

    def exact_name(self) -> str | None:
        """The name when the selector pins metadata.name (lets a list read one key instead of a range)."""
        for r in self.requirements:
            if r.field == "metadata.name" and r.equals:
                return r.value
        return None


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The selectable string form of a field: missing is "", booleans are "true"/"false"."""
    if path == "source":  # events: the reporting component of the legacy `source` struct
        source = obj.get("source") or {}
        return str(source.get("component", "")) if isinstance(source, dict) else ""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def _unescape_split(text: str, separator: str) -> list[str]:
    """Split on an unescaped separator; `\\,` `\\=` `\\!` and `\\\\` are literal."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if escaped:
        raise FieldSelectorError(f"invalid field selector: {text!r}: trailing backslash")
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt not in ("\\", ",", "=", "!"):
                raise FieldSelectorError(
                    f"invalid field selector: invalid escape sequence \\{nxt} in {text!r}"
                )
            out.append(nxt)
        else:
            out.append(ch)
    return "".join(out)


def _parse_term(term: str) -> FieldRequirement:
    # Find the first unescaped operator; the escaped forms stay inside the term for now.
    i = 0
    while i < len(term):
        ch = term[i]
        if ch == "\\":
            i += 2
            continue
        if term.startswith("!=", i):
            return FieldRequirement(_unescape(term[:i]), False, _unescape(term[i + 2 :]))
        if term.startswith("==", i):
            return FieldRequirement(_unescape(term[:i]), True, _unescape(term[i + 2 :]))
        if ch == "=":
            return FieldRequirement(_unescape(term[:i]), True, _unescape(term[i + 1 :]))
        i += 1
    raise FieldSelectorError(f"invalid selector: '{term}'; can't understand '{term}'")


def parse(text: str | None, *, group: str, resource: str) -> FieldSelector:
    """Parse a field selector for one resource; unsupported fields are an error."""
    if not text or not text.strip():
        return FieldSelector()
    allowed = _COMMON + EXTRA_FIELDS.get((group, resource), ())
    requirements: list[FieldRequirement] = []
    for raw in _unescape_split(text, ","):
        if not raw.strip():
            continue
        req = _parse_term(raw.strip())
        if req.field not in allowed:
            raise FieldSelectorError(f"field label not supported: {req.field}")
        requirements.append(req)
    return FieldSelector(tuple(requirements))
