"""Cell formats shared by many kinds: ages of timestamps, label maps, label selectors, container lists.

Each follows what upstream's printers print, so a cell reads the same as against a real cluster:
`<none>` for an empty label map, `app=web,tier in (a,b)` for a selector, `a,b` for container names.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.apiserver.tables.base import Column, human_duration, parse_time

NONE = "<none>"
UNSET = "<unset>"

# The wide columns of the kinds that own a pod template.
CONTAINERS = Column("Containers", priority=1, description="Names of each container in the template.")
IMAGES = Column("Images", priority=1, description="Images referenced by each container in the template.")


def since(timestamp: str | None, now: datetime.datetime) -> str:
    """How long ago `timestamp` was (`5m12s`); `<unknown>` when it is missing."""
    moment = parse_time(timestamp)
    return human_duration(now - moment) if moment else "<unknown>"


def format_labels(labels: Mapping[str, Any] | None) -> str:
    """`a=1,b=2` sorted by key, or `<none>`."""
    if not labels:
        return NONE
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


_SET_OPERATORS = {"In": "in", "NotIn": "notin"}


def label_selector_string(selector: Mapping[str, Any] | None) -> str:
    """A LabelSelector in the query syntax, requirements sorted by key: `app=web,env in (a,b),!gone`.

    Empty (or absent) selectors print as "". Raises ValueError for an operator upstream rejects.
    """
    if not selector:
        return ""
    terms: list[tuple[str, str]] = [
        (str(key), f"{key}={value}") for key, value in (selector.get("matchLabels") or {}).items()
    ]
    for expr in selector.get("matchExpressions") or []:
        key, operator = str(expr.get("key", "")), str(expr.get("operator", ""))
        if operator == "Exists":
            terms.append((key, key))
        elif operator == "DoesNotExist":
            terms.append((key, "!" + key))
        elif operator in _SET_OPERATORS:
            values = ",".join(sorted(str(v) for v in expr.get("values") or []))
            terms.append((key, f"{key} {_SET_OPERATORS[operator]} ({values})"))
        else:
            raise ValueError(f"{operator!r} is not a valid label selector operator")
    terms.sort(key=lambda term: term[0])
    return ",".join(text for _, text in terms)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """A LabelSelector for a SELECTOR column: `<none>` when empty, `<error>` when it does not parse."""
    try:
        return label_selector_string(selector) or NONE
    except ValueError:
        return "<error>"


def container_cells(pod_spec: Mapping[str, Any] | None) -> tuple[str, str]:
    """The CONTAINERS and IMAGES cells of a pod template: names and images, comma-joined."""
    containers = (pod_spec or {}).get("containers") or []
    return (
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    )


def template_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """spec.template.spec of a workload (empty when there is none)."""
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def first_items(items: Sequence[str], *, limit: int = 3) -> str:
    """`a,b,c + 2 more...` once more than `limit` items exist; `<unset>` when there are none."""
    text = ",".join(items[:limit])
    if len(items) > limit:
        return f"{text} + {len(items) - limit} more..."
    return text or UNSET


def owner_controller(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference marked controller, if any."""
    refs: list[Mapping[str, Any]] = (obj.get("metadata") or {}).get("ownerReferences") or []
    return next((ref for ref in refs if ref.get("controller")), None)
