"""Label selectors: the `labelSelector` query string and the `LabelSelector` object, parsed into one matcher.

The API server filters lists and watches with them; controllers match pods to their owners with them. Both
spellings mean the same thing, so both parse into the same `Selector` (a conjunction of requirements).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_KEY_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_OPERATORS = ("==", "!=", "=", " in ", " notin ", "<", ">")
# The characters that end a key in the query syntax.
_KEY_END = re.compile(r"[=!<>\s(),]")


class SelectorError(ValueError):
    """The selector does not parse or names an invalid key or value."""


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str  # "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "Exists":
            return self.key in labels
        if op == "DoesNotExist":
            return self.key not in labels
        if op == "In":
            return self.key in labels and labels[self.key] in self.values
        if op == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        # Gt / Lt compare integers; a missing or non-integer label never matches.
        try:
            actual = int(labels[self.key])
        except (KeyError, ValueError):
            return False
        bound = int(self.values[0])
        return actual > bound if op == "Gt" else actual < bound


@dataclass(frozen=True, slots=True)
class Selector:
    """All requirements must hold. An empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


EVERYTHING = Selector()
# A nil LabelSelector object selects nothing (an empty one selects everything).
NOTHING = Selector((Requirement("", "In", ()),))


def _check_key(key: str) -> None:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        raise SelectorError(f"invalid label key {key!r}: prefix part must be a DNS-1123 subdomain")
    if not _KEY_NAME.match(name):
        raise SelectorError(
            f"invalid label key {key!r}: name part must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character (at most 63 characters)"
        )


def _check_value(value: str) -> None:
    if len(value) > 63 or not _VALUE.match(value):
        raise SelectorError(
            f"invalid label value {value!r}: must be 63 characters or less and consist of alphanumeric "
            "characters, '-', '_' or '.', starting and ending with an alphanumeric character"
        )


def _requirement(key: str, operator: str, values: list[str]) -> Requirement:
    _check_key(key)
    if operator in ("In", "NotIn") and not values:
        raise SelectorError(f"for 'in', 'notin' operators, values set can't be empty (key {key!r})")
    if operator in ("Gt", "Lt"):
        if len(values) != 1 or not re.fullmatch(r"-?\d+", values[0]):
            raise SelectorError(
                f"for 'Gt', 'Lt' operators, exactly one integer value is required (key {key!r})"
            )
    else:
        for value in values:
            _check_value(value)
    return Requirement(key, operator, tuple(sorted(set(values))))


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise SelectorError(f"unbalanced parentheses in selector {text!r}")
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth:
        raise SelectorError(f"unbalanced parentheses in selector {text!r}")
    parts.append("".join(current))
    return parts


def _parse_term(term: str) -> Requirement:
    term = term.strip()
    if not term:
        raise SelectorError("found empty requirement in selector")
    if term.startswith("!"):
        return _requirement(term[1:].strip(), "DoesNotExist", [])
    key_end = _KEY_END.search(term)
    if key_end is None:
        return _requirement(term, "Exists", [])
    key, rest = term[: key_end.start()], term[key_end.start() :].strip()
    set_op = re.match(r"^(in|notin)\s*\((.*)\)$", rest)
    if set_op:
        values = [v.strip() for v in set_op.group(2).split(",")]
        if values == [""]:
            values = []
        return _requirement(key, "In" if set_op.group(1) == "in" else "NotIn", values)
    for symbol, operator in (("==", "In"), ("!=", "NotIn"), ("=", "In"), (">", "Gt"), ("<", "Lt")):
        if rest.startswith(symbol):
            value = rest[len(symbol) :].strip()
            return _requirement(key, operator, [value])
    raise SelectorError(f"unable to parse requirement: {term!r}: expected one of {', '.join(_OPERATORS)}")


def parse(text: str | None) -> Selector:
    """Parse the query syntax: `a=b,c!=d,e in (f,g),h notin (i),j,!k,n>3`."""
    if not text or not text.strip():
        return EVERYTHING
    return Selector(tuple(_parse_term(term) for term in _split_top_level(text)))


_EXPRESSION_OPERATORS = {"In": "In", "NotIn": "NotIn", "Exists": "Exists", "DoesNotExist": "DoesNotExist"}


def from_label_selector(obj: Mapping[str, Any] | None) -> Selector:
    """A metav1.LabelSelector object (`matchLabels` + `matchExpressions`). None selects nothing."""
    if obj is None:
        return NOTHING
    requirements = [
        _requirement(k, "In", [str(v)]) for k, v in sorted((obj.get("matchLabels") or {}).items())
    ]
    for expr in obj.get("matchExpressions") or []:
        operator = _EXPRESSION_OPERATORS.get(expr.get("operator", ""))
        if operator is None:
            raise SelectorError(f"{expr.get('operator')!r} is not a valid label selector operator")
        values = [str(v) for v in expr.get("values") or []]
        if operator in ("Exists", "DoesNotExist") and values:
            raise SelectorError(f"values must be empty for operator {operator!r}")
        requirements.append(_requirement(str(expr.get("key", "")), operator, values))
    return Selector(tuple(requirements))


def to_string(selector: Selector) -> str:
    """The query syntax of a selector (what `kubectl get -l` and status.selector carry)."""
    out: list[str] = []
    for r in selector.requirements:
        if r.operator == "Exists":
            out.append(r.key)
        elif r.operator == "DoesNotExist":
            out.append(f"!{r.key}")
        elif r.operator in ("In", "NotIn") and len(r.values) == 1:
            out.append(f"{r.key}{'=' if r.operator == 'In' else '!='}{r.values[0]}")
        elif r.operator in ("In", "NotIn"):
            out.append(f"{r.key} {r.operator.lower()} ({','.join(r.values)})")
        else:
            out.append(f"{r.key}{'>' if r.operator == 'Gt' else '<'}{r.values[0]}")
    return ",".join(out)
