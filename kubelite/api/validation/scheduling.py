"""Where a pod may run: node and pod affinity, tolerations, topology spread constraints, node taints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NOT_POSITIVE = "must be greater than zero"


def _node_selector_requirement(
    requirement: Mapping[str, Any], path: str, *, strict_values: bool
) -> list[Cause]:
    operator = requirement.get("operator") or ""
    values = requirement.get("values") or []
    found: list[Cause] = []
    if operator in ("In", "NotIn"):
        if not values:
            found.append(
                e.required(e.child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
            )
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            found.append(e.forbidden(e.child(path, "values"), detail))
    elif operator in ("Gt", "Lt"):
        if len(values) != 1:
            detail = "must be specified single value when `operator` is 'Lt' or 'Gt'"
            found.append(e.required(e.child(path, "values"), detail))
    else:
        found.append(e.invalid(e.child(path, "operator"), operator, "not a valid selector operator"))
    found += m.label_key(requirement.get("key") or "", e.child(path, "key"))
    if strict_values:
        for i, value in enumerate(values):
            found += [
                e.invalid(e.index(e.child(path, "values"), i), value, msg)
                for msg in names.is_label_value(value)
            ]
    return found


def _node_field_requirement(requirement: Mapping[str, Any], path: str) -> list[Cause]:
    found: list[Cause] = []
    operator = requirement.get("operator") or ""
    values = requirement.get("values") or []
    if operator in ("In", "NotIn"):
        if len(values) != 1:
            detail = "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"
            found.append(e.required(e.child(path, "values"), detail))
    else:
        found.append(e.invalid(e.child(path, "operator"), operator, "not a valid selector operator"))
    if requirement.get("key") != "metadata.name":
        found.append(
            e.invalid(e.child(path, "key"), requirement.get("key") or "", "not a valid field selector key")
        )
    else:
        for i, value in enumerate(values):
            where = e.index(e.child(path, "values"), i)
            found += [e.invalid(where, value, msg) for msg in names.is_dns1123_subdomain(value)]
    return found


def node_selector_term(term: Mapping[str, Any], path: str, *, strict_values: bool = True) -> list[Cause]:
    found: list[Cause] = []
    for j, requirement in enumerate(term.get("matchExpressions") or []):
        where = e.index(e.child(path, "matchExpressions"), j)
        found += _node_selector_requirement(requirement, where, strict_values=strict_values)
    for j, requirement in enumerate(term.get("matchFields") or []):
        found += _node_field_requirement(requirement, e.index(e.child(path, "matchFields"), j))
    return found


def node_selector(selector: Mapping[str, Any], path: str) -> list[Cause]:
    terms = selector.get("nodeSelectorTerms") or []
    where = e.child(path, "nodeSelectorTerms")
    if not terms:
        return [e.required(where, "must have at least one node selector term")]
    found: list[Cause] = []
    for i, term in enumerate(terms):
        found += node_selector_term(term, e.index(where, i))
    return found


def _weight(value: int, path: str) -> list[Cause]:
    return [] if 0 < value <= 100 else [e.invalid(path, value, "must be in the range 1-100")]


def _pod_affinity_term(term: Mapping[str, Any], path: str) -> list[Cause]:
    found = m.label_selector(term.get("labelSelector"), e.child(path, "labelSelector"))
    found += m.label_selector(term.get("namespaceSelector"), e.child(path, "namespaceSelector"))
    for namespace in term.get("namespaces") or []:
        found += [
            e.invalid(e.child(path, "namespace"), namespace, msg) for msg in names.is_dns1123_label(namespace)
        ]
    for field in ("matchLabelKeys", "mismatchLabelKeys"):
        keys = term.get(field) or []
        if keys and term.get("labelSelector") is None:
            found.append(
                e.forbidden(e.child(path, field), "must not be specified when labelSelector is not set")
            )
            continue
        for i, label in enumerate(keys):
            found += m.label_key(label, e.index(e.child(path, field), i))
    mismatch = set(term.get("mismatchLabelKeys") or [])
    for i, label in enumerate(term.get("matchLabelKeys") or []):
        if label in mismatch:
            detail = "exists in both matchLabelKeys and mismatchLabelKeys"
            found.append(e.invalid(e.index(e.child(path, "matchLabelKeys"), i), label, detail))
    topology_key = term.get("topologyKey") or ""
    if not topology_key:
        found.append(e.required(e.child(path, "topologyKey"), "can not be empty"))
    return found + m.label_key(topology_key, e.child(path, "topologyKey"))


def _pod_affinity(affinity: Mapping[str, Any], path: str) -> list[Cause]:
    found: list[Cause] = []
    for i, term in enumerate(affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or []):
        found += _pod_affinity_term(
            term, e.index(e.child(path, "requiredDuringSchedulingIgnoredDuringExecution"), i)
        )
    for i, weighted in enumerate(affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or []):
        where = e.index(e.child(path, "preferredDuringSchedulingIgnoredDuringExecution"), i)
        found += _weight(weighted.get("weight", 0), e.child(where, "weight"))
        found += _pod_affinity_term(weighted.get("podAffinityTerm") or {}, e.child(where, "podAffinityTerm"))
    return found


def affinity(spec: Mapping[str, Any] | None, path: str) -> list[Cause]:
    if spec is None:
        return []
    found: list[Cause] = []
    node = spec.get("nodeAffinity")
    if node is not None:
        where = e.child(path, "nodeAffinity")
        required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
        if required is not None:
            found += node_selector(required, e.child(where, "requiredDuringSchedulingIgnoredDuringExecution"))
        for i, term in enumerate(node.get("preferredDuringSchedulingIgnoredDuringExecution") or []):
            term_path = e.index(e.child(where, "preferredDuringSchedulingIgnoredDuringExecution"), i)
            found += _weight(term.get("weight", 0), e.child(term_path, "weight"))
            # Preferred terms may name label values no node has: they only steer, never block.
            found += node_selector_term(
                term.get("preference") or {}, e.child(term_path, "preference"), strict_values=False
            )
    for kind in ("podAffinity", "podAntiAffinity"):
        if spec.get(kind) is not None:
            found += _pod_affinity(spec[kind], e.child(path, kind))
    return found


def taint_effect(effect: str, path: str, *, allow_empty: bool) -> list[Cause]:
    if not effect:
        return [] if allow_empty else [e.required(path)]
    return [] if effect in TAINT_EFFECTS else [e.not_supported(path, effect, TAINT_EFFECTS)]


def tolerations(items: list[dict[str, Any]], path: str) -> list[Cause]:
    """ValidateTolerations."""
    found: list[Cause] = []
    for i, toleration in enumerate(items):
        where = e.index(path, i)
        toleration_key = toleration.get("key") or ""
        operator = toleration.get("operator") or ""
        value = toleration.get("value") or ""
        effect = toleration.get("effect") or ""
        if toleration_key:
            found += m.label_key(toleration_key, e.child(where, "key"))
        if not toleration_key and operator != "Exists":
            detail = (
                'operator must be Exists when `key` is empty, which means "match all values and all keys"'
            )
            found.append(e.invalid(e.child(where, "operator"), operator, detail))
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
            found.append(e.invalid(e.child(where, "effect"), effect, detail))
        if operator in ("Equal", ""):
            problems = names.is_label_value(value)
            if problems:
                found.append(e.invalid(e.child(where, "operator"), value, ";".join(problems)))
        elif operator == "Exists":
            if value:
                found.append(
                    e.invalid(
                        e.child(where, "operator"), value, "value must be empty when `operator` is 'Exists'"
                    )
                )
        else:
            found.append(e.not_supported(e.child(where, "operator"), operator, ("Equal", "Exists")))
        found += taint_effect(effect, e.child(where, "effect"), allow_empty=True)
    return found


def taints(items: list[dict[str, Any]], path: str) -> list[Cause]:
    """validateNodeTaints: valid key/value/effect, unique by (key, effect)."""
    found: list[Cause] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(items):
        where = e.index(path, i)
        taint_key, effect = taint.get("key") or "", taint.get("effect") or ""
        found += m.label_key(taint_key, e.child(where, "key"))
        problems = names.is_label_value(taint.get("value") or "")
        if problems:
            found.append(e.invalid(e.child(where, "value"), taint.get("value") or "", ";".join(problems)))
        found += taint_effect(effect, e.child(where, "effect"), allow_empty=False)
        if (taint_key, effect) in seen:
            found.append(e.duplicate(where, taint, "taints must be unique by key and effect pair"))
            continue
        seen.add((taint_key, effect))
    return found


def topology_spread(items: list[dict[str, Any]], path: str) -> list[Cause]:
    found: list[Cause] = []
    for i, constraint in enumerate(items):
        where = e.index(path, i)
        skew = constraint.get("maxSkew", 0)
        if skew <= 0:
            found.append(e.invalid(e.child(where, "maxSkew"), skew, NOT_POSITIVE))
        if not constraint.get("topologyKey"):
            found.append(e.required(e.child(where, "topologyKey"), "can not be empty"))
        action = constraint.get("whenUnsatisfiable") or ""
        if action not in ("DoNotSchedule", "ScheduleAnyway"):
            found.append(
                e.not_supported(
                    e.child(where, "whenUnsatisfiable"), action, ("DoNotSchedule", "ScheduleAnyway")
                )
            )
        pair = (constraint.get("topologyKey") or "", action)
        if any(
            ((other.get("topologyKey") or ""), other.get("whenUnsatisfiable") or "") == pair
            for other in items[i + 1 :]
        ):
            found.append(
                e.duplicate(e.child(where, "{topologyKey, whenUnsatisfiable}"), f"{{{pair[0]}, {pair[1]}}}")
            )
        min_domains = constraint.get("minDomains")
        if min_domains is not None:
            if min_domains <= 0:
                found.append(e.invalid(e.child(where, "minDomains"), min_domains, NOT_POSITIVE))
            if action != "DoNotSchedule":
                detail = f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}"
                found.append(e.invalid(e.child(where, "minDomains"), min_domains, detail))
        for policy in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
            value = constraint.get(policy)
            if value is not None and value not in ("Honor", "Ignore"):
                found.append(e.not_supported(e.child(where, policy), value, ("Honor", "Ignore")))
        keys = constraint.get("matchLabelKeys") or []
        selector = constraint.get("labelSelector")
        if keys and selector is None:
            found.append(
                e.forbidden(
                    e.child(where, "matchLabelKeys"), "must not be specified when labelSelector is not set"
                )
            )
        in_selector = set((selector or {}).get("matchLabels") or {}) | {
            x.get("key") for x in (selector or {}).get("matchExpressions") or []
        }
        for j, label in enumerate(keys):
            found += m.label_key(label, e.index(e.child(where, "matchLabelKeys"), j))
            if label in in_selector:
                found.append(
                    e.invalid(
                        e.index(e.child(where, "matchLabelKeys"), j),
                        label,
                        "exists in both matchLabelKeys and labelSelector",
                    )
                )
        found += m.label_selector(selector, e.child(where, "labelSelector"))
    return found
