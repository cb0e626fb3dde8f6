"""Field errors worded exactly as upstream's field.Error renders them (Kubernetes 1.32).

A cause's message is the error body without its field path: `Required value`, `Invalid value: "x": why`,
`Unsupported value: "x": supported values: "a", "b"`, `Forbidden: why`, `Too long: may not be more than N
bytes`. The API server joins field and message into the 422 Status (`<Kind> "<name>" is invalid: ...`).

Bad values print as Go prints them: strings quoted (%q), numbers and booleans bare, nil as null. Upstream
prints maps, string lists, label selectors and int-or-strings with Go's %#v; the `go_*` helpers reproduce
those renderings (`map[string]string{"app":"web"}`), anything else falls back to compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.api.schema.causes import FIELD_VALUE_INVALID, FIELD_VALUE_REQUIRED, Cause

FIELD_VALUE_NOT_SUPPORTED = "FieldValueNotSupported"
FIELD_VALUE_DUPLICATE = "FieldValueDuplicate"
FIELD_VALUE_FORBIDDEN = "FieldValueForbidden"
FIELD_VALUE_TOO_LONG = "FieldValueTooLong"
FIELD_VALUE_TOO_MANY = "FieldValueTooMany"
FIELD_VALUE_NOT_FOUND = "FieldValueNotFound"

NEGATIVE = "must be greater than or equal to 0"
IMMUTABLE = "field is immutable"


@dataclass(frozen=True, slots=True)
class GoValue:
    """A bad value already rendered the way Go's %#v prints it."""

    text: str


# --- field paths (field.Path: Child → ".name", Index → "[0]", Key → "[key]") -------------------------------
def child(path: str, name: str, *names: str) -> str:
    path = f"{path}.{name}" if path else name  # the first name outside the loop: most calls have just one
    for name in names:
        path = f"{path}.{name}" if path else name
    return path


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, k: str) -> str:
    return f"{path}[{k}]"


# --- rendering -------------------------------------------------------------------------------------------
def go_quote(text: str) -> str:
    """strconv.Quote: double quotes, Go escapes for quotes, backslashes and unprintable characters."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def render(value: Any) -> str:
    """A bad value as field.Error prints it after `Invalid value: `."""
    if isinstance(value, GoValue):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, str):
        return go_quote(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def go_map(labels: Mapping[str, Any] | None) -> GoValue:
    """A map[string]string as %#v prints it: keys sorted, `map[string]string(nil)` when unset."""
    if labels is None:
        return GoValue("map[string]string(nil)")
    items = ", ".join(f"{go_quote(k)}:{go_quote(str(v))}" for k, v in sorted(labels.items()))
    return GoValue(f"map[string]string{{{items}}}")


def go_strings(values: Iterable[str] | None) -> GoValue:
    if values is None:
        return GoValue("[]string(nil)")
    return GoValue("[]string{" + ", ".join(go_quote(v) for v in values) + "}")


def go_selector(selector: Mapping[str, Any]) -> GoValue:
    """A metav1.LabelSelector as %#v prints it (the famous `field is immutable` message)."""
    expressions = selector.get("matchExpressions")
    if expressions is None:
        rendered = "[]v1.LabelSelectorRequirement(nil)"
    else:
        rendered = (
            "[]v1.LabelSelectorRequirement{"
            + ", ".join(
                f"v1.LabelSelectorRequirement{{Key:{go_quote(e.get('key') or '')}, "
                f"Operator:{go_quote(e.get('operator') or '')}, Values:{go_strings(e.get('values')).text}}}"
                for e in expressions
            )
            + "}"
        )
    labels = go_map(selector.get("matchLabels")).text
    return GoValue(f"v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{rendered}}}")


def go_int_or_string(value: int | str) -> GoValue:
    if isinstance(value, int):
        return GoValue(f'intstr.IntOrString{{Type:0, IntVal:{value}, StrVal:""}}')
    return GoValue(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}")


# --- errors ----------------------------------------------------------------------------------------------
def _with_detail(head: str, detail: str) -> str:
    return f"{head}: {detail}" if detail else head


def required(path: str, detail: str = "") -> Cause:
    return Cause(FIELD_VALUE_REQUIRED, path, _with_detail("Required value", detail))


def invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause(FIELD_VALUE_INVALID, path, _with_detail(f"Invalid value: {render(value)}", detail))


def invalid_omitted(path: str, detail: str) -> Cause:
    """An Invalid error whose bad value upstream leaves out (field.OmitValueType)."""
    return Cause(FIELD_VALUE_INVALID, path, _with_detail("Invalid value", detail))


def not_supported(path: str, value: Any, supported: Iterable[str]) -> Cause:
    quoted = ", ".join(go_quote(v) for v in supported)
    detail = f"supported values: {quoted}" if quoted else ""
    return Cause(FIELD_VALUE_NOT_SUPPORTED, path, _with_detail(f"Unsupported value: {render(value)}", detail))


def duplicate(path: str, value: Any, detail: str = "") -> Cause:
    return Cause(FIELD_VALUE_DUPLICATE, path, _with_detail(f"Duplicate value: {render(value)}", detail))


def not_found(path: str, value: Any, detail: str = "") -> Cause:
    return Cause(FIELD_VALUE_NOT_FOUND, path, _with_detail(f"Not found: {render(value)}", detail))


def forbidden(path: str, detail: str) -> Cause:
    return Cause(FIELD_VALUE_FORBIDDEN, path, _with_detail("Forbidden", detail))


def too_long(path: str, max_bytes: int) -> Cause:
    unit = "byte" if max_bytes == 1 else "bytes"
    return Cause(FIELD_VALUE_TOO_LONG, path, f"Too long: may not be more than {max_bytes} {unit}")


def too_many(path: str, actual: int, maximum: int) -> Cause:
    unit = "item" if maximum == 1 else "items"
    return Cause(FIELD_VALUE_TOO_MANY, path, f"Too many: {actual}: must have at most {maximum} {unit}")


def non_negative(path: str, value: int | None) -> list[Cause]:
    """ValidateNonnegativeField: nothing to say about unset or non-negative values."""
    return [invalid(path, value, NEGATIVE)] if value is not None and value < 0 else []


def immutable(path: str, new: Any, old: Any, *, shown: Any = None) -> list[Cause]:
    """ValidateImmutableField; `shown` replaces the new value in the message when Go prints it specially."""
    return [] if new == old else [invalid(path, new if shown is None else shown, IMMUTABLE)]
