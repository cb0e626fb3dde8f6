"""Which nodes a pod may use: taints against tolerations, node selector terms against a node's labels.

The scheduler filters with these rules, the DaemonSet controller decides with them where daemon pods belong,
and the node lifecycle controller evicts by them, so all three must agree: one copy, here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NODE_NAME_FIELD = "metadata.name"  # the one field a matchFields requirement may name


def toleration_matches(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """One toleration against one taint. An empty effect matches every effect; Exists without a key
    matches every key."""
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if toleration.get("operator", "Equal") == "Exists":
        return not key or key == taint.get("key")
    return key == taint.get("key") and (toleration.get("value") or "") == (taint.get("value") or "")


def tolerated(tolerations: Sequence[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    return any(toleration_matches(toleration, taint) for toleration in tolerations)


def requirement_matches(req: Mapping[str, Any], value: str | None) -> bool:
    """One NodeSelectorRequirement against a label (or field) value; None when the node lacks it."""
    op, values = req.get("operator"), req.get("values") or ()
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and values:
        try:
            actual, bound = int(value), int(values[0])
        except ValueError:
            return False
        return actual > bound if op == "Gt" else actual < bound
    return False


def term_matches(term: Mapping[str, Any], labels: Mapping[str, str], node_name: str) -> bool:
    """A NodeSelectorTerm: all its label and field requirements hold. An empty term matches nothing."""
    expressions = term.get("matchExpressions") or ()
    fields = term.get("matchFields") or ()
    if not expressions and not fields:
        return False
    if not all(requirement_matches(req, labels.get(req.get("key", ""))) for req in expressions):
        return False
    return all(
        requirement_matches(req, node_name if req.get("key") == NODE_NAME_FIELD else None) for req in fields
    )


def selector_matches(terms: Sequence[Mapping[str, Any]], labels: Mapping[str, str], node_name: str) -> bool:
    """A NodeSelector: any of its terms."""
    return any(term_matches(term, labels, node_name) for term in terms)
