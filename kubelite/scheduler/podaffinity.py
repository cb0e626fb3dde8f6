"""Rules that depend on where other pods run: inter-pod (anti-)affinity and topology spreading.

Each is prepared once per pod by one pass over the counted pods (only for pods that use these rules), which
turns it into sets and counts per topology domain (a (topologyKey, value) pair such as (zone, eu-1a)); the
per-node check is then a lookup. Existing pods' required anti-affinity is checked for every pod, against the
few pods that declare one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from kubelite.api import selectors
from kubelite.scheduler.filters import Filter, Rejection, node_matches_pod
from kubelite.scheduler.nodeinfo import ClusterState, NodeInfo, PodEntry

AFFINITY_REASON = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY_REASON = "node(s) didn't satisfy existing pods anti-affinity rules"
SPREAD_REASON = "node(s) didn't match pod topology spread constraints"
SPREAD_LABEL_REASON = "node(s) didn't match pod topology spread constraints (missing required label)"

Domain = tuple[str, str]  # (topologyKey, value)


def _meta(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return pod.get("metadata") or {}


def term_selects(term: Mapping[str, Any], owner_namespace: str, candidate: PodEntry) -> bool:
    """Whether a PodAffinityTerm of a pod in `owner_namespace` selects `candidate`. An empty
    namespaceSelector means every namespace; other namespace selectors are not evaluated (no namespace
    labels here) and fall back to the listed namespaces."""
    namespaces = term.get("namespaces") or ()
    if term.get("namespaceSelector") != {}:
        allowed = namespaces or (owner_namespace,)
        if candidate.namespace not in allowed:
            return False
    try:
        selector = selectors.from_label_selector(term.get("labelSelector"))
    except selectors.SelectorError:
        return False
    return selector.matches(candidate.labels)


def _terms(pod: Mapping[str, Any], kind: str, mode: str) -> list[Mapping[str, Any]]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    return list(affinity.get(f"{mode}DuringSchedulingIgnoredDuringExecution") or ())


def _domains_with_matches(term: Mapping[str, Any], namespace: str, state: ClusterState) -> Counter[str]:
    """Per value of the term's topologyKey: how many counted pods the term selects there."""
    key = str(term.get("topologyKey", ""))
    found: Counter[str] = Counter()
    for entry, info in state.all_pods():
        value = info.labels.get(key)
        if value is not None and term_selects(term, namespace, entry):
            found[value] += 1
    return found


def prepare_filters(pod: Mapping[str, Any], state: ClusterState) -> list[Filter]:
    namespace = str(_meta(pod).get("namespace", ""))
    self_entry = PodEntry.of(pod)
    checks: list[Filter] = []

    forbidden: set[Domain] = set()
    for key, other in state.anti_affinity_pods.items():
        node = state.nodes.get(state.pod_nodes.get(key, ""))
        for term in _terms(other.pod, "podAntiAffinity", "required"):
            topology = str(term.get("topologyKey", ""))
            if (
                node is not None
                and topology in node.labels
                and term_selects(term, other.namespace, self_entry)
            ):
                forbidden.add((topology, node.labels[topology]))
    if forbidden:
        existing = Rejection((EXISTING_ANTI_AFFINITY_REASON,), resolvable=True)
        keys = {k for k, _ in forbidden}

        def existing_check(info: NodeInfo) -> Rejection | None:
            return existing if any((k, info.labels.get(k)) in forbidden for k in keys) else None

        checks.append(existing_check)

    affinity = [
        (t, _domains_with_matches(t, namespace, state)) for t in _terms(pod, "podAffinity", "required")
    ]
    # The first pod of a group that selects itself may go anywhere its other rules allow.
    if affinity and not (
        all(not found for _, found in affinity)
        and all(term_selects(t, namespace, self_entry) for t, _ in affinity)
    ):
        rejected = Rejection((AFFINITY_REASON,))

        def affinity_check(info: NodeInfo) -> Rejection | None:
            for term, found in affinity:
                value = info.labels.get(str(term.get("topologyKey", "")))
                if value is None or value not in found:
                    return rejected
            return None

        checks.append(affinity_check)

    anti = [
        (t, _domains_with_matches(t, namespace, state)) for t in _terms(pod, "podAntiAffinity", "required")
    ]
    anti = [(t, found) for t, found in anti if found]
    if anti:
        anti_rejected = Rejection((ANTI_AFFINITY_REASON,), resolvable=True)

        def anti_check(info: NodeInfo) -> Rejection | None:
            for term, found in anti:
                value = info.labels.get(str(term.get("topologyKey", "")))
                if value is not None and value in found:
                    return anti_rejected
            return None

        checks.append(anti_check)

    for constraint in _spread_constraints(pod, "DoNotSchedule"):
        checks.append(_spread_filter(pod, constraint, state))
    return checks


def _spread_constraints(pod: Mapping[str, Any], when: str) -> list[Mapping[str, Any]]:
    constraints = (pod.get("spec") or {}).get("topologySpreadConstraints") or ()
    return [c for c in constraints if c.get("whenUnsatisfiable", "DoNotSchedule") == when]


def _spread_selector(pod: Mapping[str, Any], constraint: Mapping[str, Any]) -> selectors.Selector:
    """The constraint's labelSelector plus matchLabelKeys (the pod's own values of those keys)."""
    selector = selectors.from_label_selector(constraint.get("labelSelector"))
    labels = _meta(pod).get("labels") or {}
    extra = tuple(
        selectors.Requirement(k, "In", (labels[k],))
        for k in constraint.get("matchLabelKeys") or ()
        if k in labels
    )
    return selectors.Selector(selector.requirements + extra)


def spread_counts(
    pod: Mapping[str, Any], constraint: Mapping[str, Any], state: ClusterState
) -> tuple[Counter[str], selectors.Selector]:
    """Matching pods per domain value, over the nodes the pod could go to (every domain present, even
    empty); the selector used."""
    key = str(constraint.get("topologyKey", ""))
    namespace = str(_meta(pod).get("namespace", ""))
    try:
        selector = _spread_selector(pod, constraint)
    except selectors.SelectorError:
        selector = selectors.NOTHING
    counts: Counter[str] = Counter()
    for info in state.existing():
        value = info.labels.get(key)
        if value is None or not node_matches_pod(pod, info):
            continue
        counts[value] += sum(
            1
            for entry in info.pods.values()
            if entry.namespace == namespace and selector.matches(entry.labels)
        )
    return counts, selector


def _spread_filter(pod: Mapping[str, Any], constraint: Mapping[str, Any], state: ClusterState) -> Filter:
    key = str(constraint.get("topologyKey", ""))
    max_skew = int(constraint.get("maxSkew", 1))
    counts, selector = spread_counts(pod, constraint, state)
    min_domains = int(constraint.get("minDomains") or 1)
    lowest = min(counts.values()) if len(counts) >= min_domains and counts else 0
    own = 1 if selector.matches(_meta(pod).get("labels") or {}) else 0
    missing, skewed = Rejection((SPREAD_LABEL_REASON,)), Rejection((SPREAD_REASON,), resolvable=True)

    def check(info: NodeInfo) -> Rejection | None:
        value = info.labels.get(key)
        if value is None:
            return missing
        return skewed if counts.get(value, 0) + own - lowest > max_skew else None

    return check


def soft_spread_penalties(pod: Mapping[str, Any], state: ClusterState) -> list[tuple[str, Counter[str]]]:
    """For ScheduleAnyway constraints: (topologyKey, matching pods per value); fewer is better."""
    return [
        (str(c.get("topologyKey", "")), spread_counts(pod, c, state)[0])
        for c in _spread_constraints(pod, "ScheduleAnyway")
    ]


def preferred_affinity_weights(
    pod: Mapping[str, Any], state: ClusterState
) -> list[tuple[str, Counter[str], int]]:
    """For preferred (anti-)affinity: (topologyKey, matching pods per value, signed weight)."""
    namespace = str(_meta(pod).get("namespace", ""))
    out = []
    for kind, sign in (("podAffinity", 1), ("podAntiAffinity", -1)):
        for weighted in _terms(pod, kind, "preferred"):
            term = weighted.get("podAffinityTerm") or {}
            found = _domains_with_matches(term, namespace, state)
            if found:
                out.append((str(term.get("topologyKey", "")), found, sign * int(weighted.get("weight", 1))))
    return out


def has_rules(pod: Mapping[str, Any]) -> bool:
    spec: Mapping[str, Any] = pod.get("spec") or {}
    affinity: Mapping[str, Any] = spec.get("affinity") or {}
    return bool(
        affinity.get("podAffinity")
        or affinity.get("podAntiAffinity")
        or spec.get("topologySpreadConstraints")
    )
