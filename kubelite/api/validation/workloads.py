"""Deployments, ReplicaSets, DaemonSets, StatefulSets, ControllerRevisions and ReplicationControllers.

Every controller needs a selector that selects its own template's labels (upstream's `selector` does not
match template `labels`), a non-negative replica count and a template that always restarts; in apps/v1 the
selector is immutable. StatefulSets may only change replicas, ordinals, template, updateStrategy,
persistentVolumeClaimRetentionPolicy and minReadySeconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation import names
from kubelite.api.validation.podspec import pod_annotations, template_spec


def _meta(obj: Mapping[str, Any], rule: names.NameRule = names.name_is_dns_subdomain) -> list[Cause]:
    return m.object_meta(obj.get("metadata") or {}, namespaced=True, name_rule=rule)


def _meta_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})


def _template_labels(template: Mapping[str, Any] | None) -> dict[str, str] | None:
    labels: dict[str, str] | None = ((template or {}).get("metadata") or {}).get("labels")
    return labels


def _selector(spec: Mapping[str, Any], kind: str) -> list[Cause]:
    """A required, valid and non-empty spec.selector."""
    selector = spec.get("selector")
    if selector is None:
        return [e.required("spec.selector")]
    found = m.label_selector(selector, "spec.selector")
    if m.selector_is_empty(selector):
        found.append(
            e.invalid("spec.selector", e.go_selector(selector), f"empty selector is invalid for {kind}")
        )
    return found


def _matches_template(spec: Mapping[str, Any], *, unparsable: str = "invalid label selector") -> list[Cause]:
    """The selector must select the template's labels (a missing selector selects nothing)."""
    selector = spec.get("selector")
    matches = m.selector_matches(selector, _template_labels(spec.get("template")))
    if matches is None:
        return [e.invalid("spec.selector", e.go_selector(selector or {}), unparsable)]
    if matches or (selector is not None and m.selector_is_empty(selector)):
        return []
    labels = e.go_map(_template_labels(spec.get("template")))
    return [e.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")]


def _always_restarts(template: Mapping[str, Any] | None, kind: str) -> list[Cause]:
    spec = (template or {}).get("spec") or {}
    found: list[Cause] = []
    if spec.get("restartPolicy") != "Always":
        found.append(
            e.not_supported("spec.template.spec.restartPolicy", spec.get("restartPolicy") or "", ("Always",))
        )
    if spec.get("activeDeadlineSeconds") is not None:
        detail = f"activeDeadlineSeconds in {kind} is not Supported"
        found.append(e.forbidden("spec.template.spec.activeDeadlineSeconds", detail))
    return found


def _replica_template(spec: Mapping[str, Any], kind: str) -> list[Cause]:
    """ValidatePodTemplateSpecForReplicaSet (after the selector checks)."""
    return (
        _matches_template(spec)
        + template_spec(spec.get("template"), "spec.template")
        + _always_restarts(spec.get("template"), kind)
    )


def _int_or_percent(value: int | str, path: str) -> list[Cause]:
    if isinstance(value, str):
        return [e.invalid(path, e.go_int_or_string(value), msg) for msg in names.is_valid_percent(value)]
    return e.non_negative(path, value)


def _int_or_percent_value(value: int | str | None) -> int:
    if isinstance(value, str):
        return int(value[:-1]) if not names.is_valid_percent(value) else 0
    return value or 0


def _not_over_100(value: int | str | None, path: str) -> list[Cause]:
    if isinstance(value, str) and not names.is_valid_percent(value) and int(value[:-1]) > 100:
        return [e.invalid(path, e.go_int_or_string(value), "must not be greater than 100%")]
    return []


def _deployment_strategy(strategy: Mapping[str, Any]) -> list[Cause]:
    path = "spec.strategy"
    kind = strategy.get("type") or ""
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        return (
            [e.forbidden(f"{path}.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")]
            if rolling is not None
            else []
        )
    if kind != "RollingUpdate":
        return [e.not_supported(path, strategy, ("Recreate", "RollingUpdate"))]
    if rolling is None:
        return [e.required(f"{path}.rollingUpdate", "this should be defaulted and never be nil")]
    unavailable, surge = rolling.get("maxUnavailable", 0), rolling.get("maxSurge", 0)
    found = _int_or_percent(unavailable, f"{path}.rollingUpdate.maxUnavailable")
    found += _int_or_percent(surge, f"{path}.rollingUpdate.maxSurge")
    if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
        shown = e.go_int_or_string(unavailable)
        found.append(
            e.invalid(f"{path}.rollingUpdate.maxUnavailable", shown, "may not be 0 when `maxSurge` is 0")
        )
    return found + _not_over_100(unavailable, f"{path}.rollingUpdate.maxUnavailable")


def _deployment_spec(spec: Mapping[str, Any]) -> list[Cause]:
    found = e.non_negative("spec.replicas", spec.get("replicas"))
    found += _selector(spec, "deployment")
    found += _replica_template(spec, "ReplicaSet")
    found += _deployment_strategy(spec.get("strategy") or {})
    found += e.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    found += e.non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
    deadline = spec.get("progressDeadlineSeconds")
    if deadline is not None:
        found += e.non_negative("spec.progressDeadlineSeconds", deadline)
        if deadline <= (spec.get("minReadySeconds") or 0):
            found.append(
                e.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
            )
    return found


def _immutable_selector(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    selector, old_selector = (new.get("spec") or {}).get("selector"), (old.get("spec") or {}).get("selector")
    shown = e.go_selector(selector) if selector is not None else None
    return e.immutable("spec.selector", selector, old_selector, shown=shown)


def validate_deployment(obj: Mapping[str, Any]) -> list[Cause]:
    return _meta(obj) + _deployment_spec(obj.get("spec") or {})


def validate_deployment_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return _meta_update(new, old) + _deployment_spec(new.get("spec") or {}) + _immutable_selector(new, old)


def _replica_set_spec(spec: Mapping[str, Any]) -> list[Cause]:
    found = e.non_negative("spec.replicas", spec.get("replicas"))
    found += e.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    # Upstream words the empty-selector error of ReplicaSets as for deployments.
    return found + _selector(spec, "deployment") + _replica_template(spec, "ReplicaSet")


def validate_replica_set(obj: Mapping[str, Any]) -> list[Cause]:
    return _meta(obj) + _replica_set_spec(obj.get("spec") or {})


def validate_replica_set_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return _meta_update(new, old) + _replica_set_spec(new.get("spec") or {}) + _immutable_selector(new, old)


def _daemon_set_strategy(strategy: Mapping[str, Any]) -> list[Cause]:
    path = "spec.updateStrategy"
    kind = strategy.get("type") or ""
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        return [e.not_supported(path, strategy, ("RollingUpdate", "OnDelete"))]
    rolling = strategy.get("rollingUpdate")
    if rolling is None:
        return [e.required(f"{path}.rollingUpdate")]
    unavailable, surge = rolling.get("maxUnavailable", 0), rolling.get("maxSurge", 0)
    where = f"{path}.rollingUpdate"
    found = _int_or_percent(unavailable, f"{where}.maxUnavailable") + _int_or_percent(
        surge, f"{where}.maxSurge"
    )
    found += _not_over_100(unavailable, f"{where}.maxUnavailable") + _not_over_100(surge, f"{where}.maxSurge")
    has_unavailable, has_surge = _int_or_percent_value(unavailable) != 0, _int_or_percent_value(surge) != 0
    if has_unavailable and has_surge:
        found.append(
            e.invalid(
                f"{where}.maxSurge",
                e.go_int_or_string(surge),
                "may not be set when maxUnavailable is non-zero",
            )
        )
    elif not has_unavailable and not has_surge:
        found.append(e.required(f"{where}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return found


def _daemon_set_spec(spec: Mapping[str, Any]) -> list[Cause]:
    found = m.label_selector(spec.get("selector"), "spec.selector")
    if m.selector_matches(spec.get("selector"), _template_labels(spec.get("template"))) is False:
        labels = e.go_map(_template_labels(spec.get("template")))
        found.append(
            e.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")
        )
    selector = spec.get("selector")
    if selector is not None and m.selector_is_empty(selector):
        found.append(
            e.invalid("spec.selector", e.go_selector(selector), "empty selector is invalid for daemonset")
        )
    found += template_spec(spec.get("template"), "spec.template")
    found += _always_restarts(spec.get("template"), "DaemonSet")
    found += e.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    found += e.non_negative("spec.templateGeneration", spec.get("templateGeneration"))
    found += _daemon_set_strategy(spec.get("updateStrategy") or {})
    return found + e.non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))


def validate_daemon_set(obj: Mapping[str, Any]) -> list[Cause]:
    return _meta(obj) + _daemon_set_spec(obj.get("spec") or {})


def validate_daemon_set_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return _meta_update(new, old) + _daemon_set_spec(new.get("spec") or {}) + _immutable_selector(new, old)


_STATEFUL_SET_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)


def _stateful_set_spec(spec: Mapping[str, Any]) -> list[Cause]:
    found: list[Cause] = []
    policy = spec.get("podManagementPolicy") or ""
    if not policy:
        found.append(e.required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        found.append(e.invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"))
    strategy = spec.get("updateStrategy") or {}
    kind, rolling = strategy.get("type") or "", strategy.get("rollingUpdate")
    if not kind:
        found.append(e.required("spec.updateStrategy"))
    elif kind == "OnDelete" and rolling is not None:
        found.append(
            e.invalid(
                "spec.updateStrategy.rollingUpdate",
                rolling,
                "only allowed for updateStrategy 'RollingUpdate'",
            )
        )
    elif kind == "RollingUpdate" and rolling is not None:
        where = "spec.updateStrategy.rollingUpdate"
        found += e.non_negative(f"{where}.partition", rolling.get("partition"))
        unavailable = rolling.get("maxUnavailable")
        if unavailable is not None:
            found += _int_or_percent(unavailable, f"{where}.maxUnavailable")
            if _int_or_percent_value(unavailable) == 0:
                found.append(
                    e.invalid(f"{where}.maxUnavailable", e.go_int_or_string(unavailable), "cannot be 0")
                )
            found += _not_over_100(unavailable, f"{where}.maxUnavailable")
    elif kind not in ("OnDelete", "RollingUpdate"):
        found.append(e.invalid("spec.updateStrategy", strategy, "must be 'RollingUpdate' or 'OnDelete'"))
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    for field in ("whenDeleted", "whenScaled"):
        value = (retention or {}).get(field)
        if retention is not None and value not in ("Retain", "Delete"):
            found.append(
                e.not_supported(
                    f"spec.persistentVolumeClaimRetentionPolicy.{field}", value or "", ("Retain", "Delete")
                )
            )
    found += e.non_negative("spec.replicas", spec.get("replicas"))
    found += e.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    found += e.non_negative("spec.ordinals.start", (spec.get("ordinals") or {}).get("start"))
    found += _selector(spec, "statefulset")
    found += _matches_template(spec, unparsable="")
    # Upstream checks a StatefulSet template's metadata only; its pod spec is validated when pods are made.
    template = spec.get("template") or {}
    template_meta = template.get("metadata") or {}
    found += m.labels(template_meta.get("labels"), "spec.template.labels")
    found += m.annotation_map(template_meta.get("annotations"), "spec.template.annotations")
    found += pod_annotations(
        template_meta.get("annotations"), template.get("spec") or {}, "spec.template.annotations"
    )
    template_pod = template.get("spec") or {}
    if template_pod.get("restartPolicy") != "Always":
        found.append(
            e.not_supported(
                "spec.template.spec.restartPolicy", template_pod.get("restartPolicy") or "", ("Always",)
            )
        )
    if template_pod.get("activeDeadlineSeconds") is not None:
        found.append(
            e.forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in StatefulSet is not Supported",
            )
        )
    return found


def validate_stateful_set(obj: Mapping[str, Any]) -> list[Cause]:
    return _meta(obj, names.name_is_dns_label) + _stateful_set_spec(obj.get("spec") or {})


def validate_stateful_set_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = _meta_update(new, old) + _stateful_set_spec(new.get("spec") or {})
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    fixed = {k: v for k, v in spec.items() if k not in _STATEFUL_SET_MUTABLE}
    old_fixed = {k: v for k, v in old_spec.items() if k not in _STATEFUL_SET_MUTABLE}
    if fixed != old_fixed:
        detail = (
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
            "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        )
        found.append(e.forbidden("spec", detail))
    return found


def validate_controller_revision(obj: Mapping[str, Any]) -> list[Cause]:
    found = _meta(obj)
    if obj.get("data") is None:
        found.append(e.required("data", "data is mandatory"))
    return found + e.non_negative("revision", obj.get("revision"))


def validate_controller_revision_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = _meta_update(new, old)
    found += [c for c in validate_controller_revision(new) if not c.field.startswith("metadata.")]
    return found + e.immutable("data", new.get("data"), old.get("data"))


def _replication_controller_spec(spec: Mapping[str, Any]) -> list[Cause]:
    found = e.non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
    selector = spec.get("selector") or {}
    if not selector:
        found.append(e.required("spec.selector"))
    found += e.non_negative("spec.replicas", spec.get("replicas"))
    template = spec.get("template")
    if template is None:
        return [*found, e.required("spec.template")]
    labels = _template_labels(template) or {}
    if selector and any(labels.get(k) != v for k, v in selector.items()):
        found.append(
            e.invalid(
                "spec.template.metadata.labels",
                e.go_map(_template_labels(template)),
                "`selector` does not match template `labels`",
            )
        )
    found += template_spec(template, "spec.template")
    pod = template.get("spec") or {}
    if pod.get("restartPolicy") != "Always":
        found.append(
            e.not_supported("spec.template.spec.restartPolicy", pod.get("restartPolicy") or "", ("Always",))
        )
    if pod.get("activeDeadlineSeconds") is not None:
        found.append(
            e.forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in ReplicationController is not Supported",
            )
        )
    return found


def validate_replication_controller(obj: Mapping[str, Any]) -> list[Cause]:
    return _meta(obj) + _replication_controller_spec(obj.get("spec") or {})


def validate_replication_controller_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return _meta_update(new, old) + _replication_controller_spec(new.get("spec") or {})
