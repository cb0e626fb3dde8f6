"""Jobs and CronJobs.

A Job's pods restart OnFailure or Never (never Always, which is what an unset restartPolicy defaults to:
`spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`). Unless
manualSelector is set, the API server generates the selector and pod labels from the Job's uid
(`kubelite.api.defaults.generate_job_selector`) before validation, and validation checks they are there.
After creation the selector, completions (except for elastic Indexed Jobs), completion mode and the pod
template are fixed; a suspended Job that never started may still change its scheduling directives.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubelite.api.schema.causes import Cause
from kubelite.api.validation import batchindexes, cron, names
from kubelite.api.validation import errors as e
from kubelite.api.validation import meta as m
from kubelite.api.validation.podspec import template_spec

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
MAX_PARALLELISM_INDEXED = 100000
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
FAILURE_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")


def _has_label(labels: Mapping[str, str], label: str, expected: str) -> list[Cause]:
    """ValidateHasLabel on the pod template's metadata."""
    path = e.key("spec.template.metadata.labels", label)
    if label not in labels:
        return [e.required(path, f"must be '{expected}'")]
    if labels[label] != expected:
        return [e.invalid(path, e.go_map(labels), f"must be '{expected}'")]
    return []


def _generated_selector(job: Mapping[str, Any]) -> list[Cause]:
    spec = job.get("spec") or {}
    if spec.get("manualSelector") or spec.get("selector") is None:
        return []
    meta = job.get("metadata") or {}
    uid, name = meta.get("uid") or "", meta.get("name") or ""
    found = [] if uid else [e.required("metadata.uid")]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    expected = {
        LEGACY_CONTROLLER_UID_LABEL: uid,
        LEGACY_JOB_NAME_LABEL: name,
        CONTROLLER_UID_LABEL: uid,
        JOB_NAME_LABEL: name,
    }
    for label in (LEGACY_CONTROLLER_UID_LABEL, LEGACY_JOB_NAME_LABEL, CONTROLLER_UID_LABEL, JOB_NAME_LABEL):
        found += _has_label(labels, label, expected[label])
    if m.selector_matches(spec["selector"], expected) is False:
        found.append(
            e.invalid("spec.selector", e.go_selector(spec["selector"]), "`selector` not auto-generated")
        )
    return found


def _failure_policy(spec: Mapping[str, Any], path: str) -> list[Cause]:
    policy = spec.get("podFailurePolicy") or {}
    rules = policy.get("rules") or []
    where = e.child(path, "rules")
    found = [e.too_many(where, len(rules), 20)] if len(rules) > 20 else []
    pod = (spec.get("template") or {}).get("spec") or {}
    containers = {c.get("name") for c in [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]}
    for i, rule in enumerate(rules):
        at = e.index(where, i)
        action = rule.get("action") or ""
        if not action:
            quoted = " ".join(e.go_quote(action) for action in FAILURE_ACTIONS)
            found.append(e.required(e.child(at, "action"), f"valid values: [{quoted}]"))
        elif action == "FailIndex":
            if spec.get("backoffLimitPerIndex") is None:
                detail = "requires the backoffLimitPerIndex to be set"
                found.append(e.invalid(e.child(at, "action"), action, detail))
        elif action not in FAILURE_ACTIONS:
            found.append(e.not_supported(e.child(at, "action"), action, FAILURE_ACTIONS))
        exit_codes, conditions = rule.get("onExitCodes"), rule.get("onPodConditions") or []
        if exit_codes is not None:
            found += _exit_codes(exit_codes, e.child(at, "onExitCodes"), containers)
        found += _pod_conditions(conditions, e.child(at, "onPodConditions"))
        if exit_codes is not None and conditions:
            found.append(
                e.invalid_omitted(at, "specifying both OnExitCodes and OnPodConditions is not supported")
            )
        if exit_codes is None and not conditions:
            found.append(
                e.invalid_omitted(at, "specifying one of OnExitCodes and OnPodConditions is required")
            )
    return found


def _pod_conditions(patterns: list[Mapping[str, Any]], path: str) -> list[Cause]:
    found = [e.too_many(path, len(patterns), 20)] if len(patterns) > 20 else []
    for j, pattern in enumerate(patterns):
        at = e.index(path, j)
        found += m.qualified_name(pattern.get("type") or "", e.child(at, "type"))
        status = pattern.get("status") or ""
        if not status:
            found.append(e.required(e.child(at, "status"), 'valid values: ["False" "True" "Unknown"]'))
        elif status not in ("False", "True", "Unknown"):
            found.append(e.not_supported(e.child(at, "status"), status, ("False", "True", "Unknown")))
    return found


def _exit_codes(requirement: Mapping[str, Any], path: str, containers: set[Any]) -> list[Cause]:
    found: list[Cause] = []
    operator = requirement.get("operator") or ""
    if not operator:
        found.append(e.required(e.child(path, "operator"), 'valid values: ["In" "NotIn"]'))
    elif operator not in ("In", "NotIn"):
        found.append(e.not_supported(e.child(path, "operator"), operator, ("In", "NotIn")))
    container = requirement.get("containerName")
    if container is not None and container not in containers:
        detail = "must be one of the container or initContainer names in the pod template"
        found.append(e.invalid(e.child(path, "containerName"), container, detail))
    values = requirement.get("values") or []
    where = e.child(path, "values")
    if not values:
        found.append(e.invalid(where, e.GoValue("[]int32(nil)"), "at least one value is required"))
    elif len(values) > 255:
        found.append(e.too_many(where, len(values), 255))
    seen: set[int] = set()
    for j, code in enumerate(values):
        if operator == "In" and code == 0:
            found.append(e.invalid(e.index(where, j), code, "must not be 0 for the In operator"))
        if code in seen:
            found.append(e.duplicate(e.index(where, j), code))
        seen.add(code)
    if values != sorted(values):
        shown = e.GoValue("[]int32{" + ", ".join(str(v) for v in values) + "}")
        found.append(e.invalid(where, shown, "must be ordered"))
    return found


def _job_spec_rules(spec: Mapping[str, Any], path: str) -> list[Cause]:
    """validateJobSpec: counts, completion mode, failure policy, the template and its restart policy."""
    found: list[Cause] = []
    for field in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ):
        found += e.non_negative(e.child(path, field), spec.get(field))
    mode = spec.get("completionMode")
    indexed = mode == "Indexed"
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        found.append(e.required(e.child(path, "backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        found.append(e.not_supported(e.child(path, "completionMode"), mode, ("NonIndexed", "Indexed")))
    if indexed:
        if spec.get("completions") is None:
            found.append(e.required(e.child(path, "completions"), "when completion mode is Indexed"))
        parallelism = spec.get("parallelism")
        if parallelism is not None and parallelism > MAX_PARALLELISM_INDEXED:
            detail = (
                f"must be less than or equal to {MAX_PARALLELISM_INDEXED} when completion mode is Indexed"
            )
            found.append(e.invalid(e.child(path, "parallelism"), parallelism, detail))
        found += batchindexes.per_index_limits(spec, path)
    if mode in (None, "NonIndexed"):
        for field in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if spec.get(field) is not None:
                found.append(e.invalid(e.child(path, field), spec[field], "requires indexed completion mode"))
    if spec.get("podFailurePolicy") is not None:
        found += _failure_policy(spec, e.child(path, "podFailurePolicy"))
    if spec.get("successPolicy") is not None:
        found += batchindexes.success_policy(spec, e.child(path, "successPolicy"))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        if spec.get("podFailurePolicy") is not None and replacement != "Failed":
            found.append(e.not_supported(e.child(path, "podReplacementPolicy"), replacement, ("Failed",)))
        elif replacement not in ("TerminatingOrFailed", "Failed"):
            found.append(
                e.not_supported(
                    e.child(path, "podReplacementPolicy"), replacement, ("Failed", "TerminatingOrFailed")
                )
            )
    template = e.child(path, "template")
    found += template_spec(spec.get("template"), template)
    restart = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") or ""
    where = e.child(template, "spec", "restartPolicy")
    if restart in ("Always", ""):
        found.append(e.required(where, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        found.append(e.not_supported(where, restart, ("OnFailure", "Never")))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        found.append(
            e.invalid(where, restart, 'only "Never" is supported when podFailurePolicy is specified')
        )
    return found


def _job_spec(spec: Mapping[str, Any]) -> list[Cause]:
    found = _job_spec_rules(spec, "spec")
    selector = spec.get("selector")
    if selector is None:
        found.append(e.required("spec.selector"))
    else:
        found += m.label_selector(selector, "spec.selector")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    if m.selector_matches(selector, labels) is False:
        found.append(
            e.invalid(
                "spec.template.metadata.labels",
                e.go_map(labels),
                "`selector` does not match template `labels`",
            )
        )
    return found


def validate_job(job: Mapping[str, Any]) -> list[Cause]:
    meta = job.get("metadata") or {}
    spec = job.get("spec") or {}
    found = m.object_meta(meta, namespaced=True, name_rule=names.name_is_dns_subdomain)
    found += _generated_selector(job)
    found += _job_spec(spec)
    completions = spec.get("completions")
    if spec.get("completionMode") == "Indexed" and completions is not None and completions > 0:
        hostname = f"{meta.get('name') or ''}-{completions - 1}"
        if names.is_dns1123_label(hostname):
            detail = f"will not able to create pod with invalid DNS label: {hostname}"
            found.append(e.invalid("metadata.name", meta.get("name") or "", detail))
    return found


_SCHEDULING_DIRECTIVES = ("nodeSelector", "tolerations", "schedulingGates")


def _template_update(
    spec: Mapping[str, Any], old_spec: Mapping[str, Any], *, scheduling_mutable: bool
) -> list[Cause]:
    template, old_template = (
        copy.deepcopy(spec.get("template") or {}),
        copy.deepcopy(old_spec.get("template") or {}),
    )
    if scheduling_mutable:
        # A suspended Job that never ran may still be steered: node affinity, selectors, tolerations,
        # scheduling gates, and the template's labels and annotations.
        pod, old_pod = template.setdefault("spec", {}), old_template.setdefault("spec", {})
        for field in _SCHEDULING_DIRECTIVES:
            pod.pop(field, None)
            old_pod.pop(field, None)
        for affinity in (pod.get("affinity"), old_pod.get("affinity")):
            if affinity is not None:
                affinity.pop("nodeAffinity", None)
        for spec_ in (pod, old_pod):
            if spec_.get("affinity") == {}:
                spec_.pop("affinity")
        for meta in (template.setdefault("metadata", {}), old_template.setdefault("metadata", {})):
            meta.pop("labels", None)
            meta.pop("annotations", None)
    if template == old_template:
        return []
    return [e.invalid("spec.template", spec.get("template"), e.IMMUTABLE)]


def validate_job_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    """The job strategy validates the new Job as a whole, then what its update may change."""
    found = validate_job(new)
    found += m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    completions, old_completions = spec.get("completions"), old_spec.get("completions")
    if spec.get("completionMode") != "Indexed":
        found += e.immutable("spec.completions", completions, old_completions)
    elif (
        completions is not None and completions != old_completions and completions != spec.get("parallelism")
    ):
        found.append(
            e.invalid("spec.completions", completions, "can only be modified in tandem with spec.parallelism")
        )
    selector = spec.get("selector")
    found += e.immutable(
        "spec.selector",
        selector,
        old_spec.get("selector"),
        shown=e.go_selector(selector) if selector else None,
    )
    suspended_never_started = bool(old_spec.get("suspend")) and not (old.get("status") or {}).get("startTime")
    found += _template_update(spec, old_spec, scheduling_mutable=suspended_never_started)
    for field in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "successPolicy", "managedBy"):
        found += e.immutable(f"spec.{field}", spec.get(field), old_spec.get(field))
    return found


def _job_template(template: Mapping[str, Any], path: str) -> list[Cause]:
    """ValidateJobTemplateSpec: a Job spec whose selector the CronJob controller will generate."""
    spec = template.get("spec") or {}
    found = m.template_meta(template.get("metadata"), e.child(path, "metadata"))
    found += _job_spec_rules(spec, e.child(path, "spec"))
    if spec.get("selector") is not None:
        detail = "`selector` will be auto-generated"
        found.append(e.invalid(e.child(path, "spec", "selector"), e.go_selector(spec["selector"]), detail))
    if spec.get("manualSelector"):
        found.append(e.not_supported(e.child(path, "spec", "manualSelector"), True, ("nil", "false")))
    return found


def _cron_job_spec(spec: Mapping[str, Any], old_spec: Mapping[str, Any] | None) -> list[Cause]:
    found: list[Cause] = []
    schedule = spec.get("schedule") or ""
    zone = spec.get("timeZone")
    if not schedule:
        found.append(e.required("spec.schedule"))
    else:
        try:
            cron.parse(schedule)
        except cron.ScheduleError as error:
            found.append(e.invalid("spec.schedule", schedule, str(error)))
        if "TZ" in schedule and zone is not None:
            found.append(
                e.invalid(
                    "spec.schedule", schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"
                )
            )
    found += e.non_negative("spec.startingDeadlineSeconds", spec.get("startingDeadlineSeconds"))
    if old_spec is None or old_spec.get("timeZone") != zone:
        found += _time_zone(zone)
    policy = spec.get("concurrencyPolicy") or ""
    if not policy:
        found.append(e.required("spec.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        found.append(e.not_supported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    found += _job_template(spec.get("jobTemplate") or {}, "spec.jobTemplate")
    found += e.non_negative("spec.successfulJobsHistoryLimit", spec.get("successfulJobsHistoryLimit"))
    return found + e.non_negative("spec.failedJobsHistoryLimit", spec.get("failedJobsHistoryLimit"))


def _time_zone(zone: str | None) -> list[Cause]:
    if zone is None:
        return []
    if not zone:
        return [e.invalid("spec.timeZone", zone, "timeZone must be nil or non-empty string")]
    found: list[Cause] = []
    if zone.lower() == "local":
        detail = "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        found.append(e.invalid("spec.timeZone", zone, detail))
    problem = cron.time_zone_problem(zone)
    return found + ([e.invalid("spec.timeZone", zone, problem)] if problem else [])


def validate_cron_job(cron_job: Mapping[str, Any]) -> list[Cause]:
    meta = cron_job.get("metadata") or {}
    found = m.object_meta(meta, namespaced=True, name_rule=names.name_is_dns_subdomain)
    found += _cron_job_spec(cron_job.get("spec") or {}, None)
    # Jobs get an 11-character suffix and their names must stay DNS labels.
    if len(meta.get("name") or "") > 52:
        found.append(e.invalid("metadata.name", meta["name"], "must be no more than 52 characters"))
    return found


def validate_cron_job_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    found = m.object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
    return found + _cron_job_spec(new.get("spec") or {}, old.get("spec") or {})
