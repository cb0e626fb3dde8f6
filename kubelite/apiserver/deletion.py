"""DELETE: preconditions, propagation policy, graceful deletion and finalizers.

An object with finalizers (or a grace period to sit out) is not removed: it gets deletionTimestamp and stays
until its finalizers are gone, when the update that removes the last one deletes it. The propagation policy
is recorded the way the garbage collector reads it: Foreground adds the `foregroundDeletion` finalizer,
Orphan adds `orphan`.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from typing import Any

from kubelite.apiserver import errors
from kubelite.apiserver.registry import Admit, Registry, WriteResult
from kubelite.store import Conflict, NotFound, StoreError

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
_POLICIES = ("Background", "Foreground", "Orphan")
_RETRIES = 8


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    propagation_policy: str | None = None
    grace_period_seconds: int | None = None
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    dry_run: bool = False


def parse_options(body: dict[str, Any] | None, query: dict[str, str]) -> DeleteOptions:
    """DeleteOptions from the body (kubectl) or the query string (some clients), body first."""
    body = body or {}
    policy = body.get("propagationPolicy") or query.get("propagationPolicy")
    orphan = body.get("orphanDependents", query.get("orphanDependents"))
    if policy is None and orphan is not None:
        policy = "Orphan" if str(orphan).lower() == "true" else "Background"
    if policy is not None and policy not in _POLICIES:
        raise errors.bad_request(
            f'propagationPolicy: Unsupported value: "{policy}": '
            'supported values: "Foreground", "Background", "Orphan"'
        )
    grace = body.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
    try:
        grace_seconds = int(grace) if grace is not None else None
    except (TypeError, ValueError) as exc:
        raise errors.bad_request(f"gracePeriodSeconds: invalid value {grace!r}") from exc
    preconditions = body.get("preconditions") or {}
    dry_run = body.get("dryRun") or query.get("dryRun")
    if dry_run and dry_run not in ("All", ["All"]):
        raise errors.bad_request(f'dryRun: Unsupported value: "{dry_run}": supported values: "All"')
    return DeleteOptions(
        propagation_policy=policy,
        grace_period_seconds=grace_seconds,
        precondition_uid=preconditions.get("uid"),
        precondition_resource_version=preconditions.get("resourceVersion"),
        dry_run=bool(dry_run),
    )


def _check_preconditions(registry: Registry, obj: dict[str, Any], options: DeleteOptions) -> None:
    meta, name = obj["metadata"], obj["metadata"]["name"]
    if options.precondition_uid is not None and options.precondition_uid != meta.get("uid"):
        why = (
            f"Precondition failed: UID in precondition: {options.precondition_uid}, "
            f"UID in object meta: {meta.get('uid')}"
        )
        raise errors.conflict(registry.resource.ref, name, why)
    wanted_rv = options.precondition_resource_version
    if wanted_rv is not None and wanted_rv != meta.get("resourceVersion"):
        why = (
            f"Precondition failed: ResourceVersion in precondition: {wanted_rv}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}"
        )
        raise errors.conflict(registry.resource.ref, name, why)


def _record_policy(meta: dict[str, Any], policy: str | None) -> None:
    if policy is None:
        return
    finalizers = [f for f in meta.get("finalizers") or [] if f not in (ORPHAN, FOREGROUND)]
    if policy == "Orphan":
        finalizers.append(ORPHAN)
    elif policy == "Foreground":
        finalizers.append(FOREGROUND)
    if finalizers:
        meta["finalizers"] = finalizers
    else:
        meta.pop("finalizers", None)


def _rfc3339(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def delete(
    registry: Registry, namespace: str, name: str, options: DeleteOptions, *, admit: Admit
) -> WriteResult:
    """Delete now, or mark deleting. `deleted` tells which happened."""
    key = registry.resource.key(namespace, name)
    strategy = registry.strategy
    for _attempt in range(_RETRIES):
        current, kv = await registry.get(namespace, name)
        _check_preconditions(registry, current, options)
        await admit("DELETE", None, current)
        marked = _mark(registry, current, options)
        if options.dry_run:
            return WriteResult(marked if marked is not None else current, deleted=marked is None)
        try:
            if marked is None:
                gone = registry.decode(await registry.store.delete(key, expected_revision=kv.mod_revision))
                await strategy.after_delete(gone)  # e.g. a Service's addresses go back to their ranges
                return WriteResult(gone, deleted=True)
            if marked == current:
                return WriteResult(current)
            revision = await registry.store.update(
                key, registry.encode(marked), expected_revision=kv.mod_revision, ttl=strategy.ttl_seconds
            )
        except (Conflict, NotFound):
            continue
        except StoreError as exc:
            raise errors.from_store_error(exc, registry.resource.ref, name) from exc
        marked["metadata"]["resourceVersion"] = str(revision)
        return WriteResult(marked)
    raise errors.conflict(registry.resource.ref, name, errors.MODIFIED)


def _mark(registry: Registry, current: dict[str, Any], options: DeleteOptions) -> dict[str, Any] | None:
    """The object as it should stay while deletion is pending, or None to delete it now."""
    strategy = registry.strategy
    obj = copy.deepcopy(current)
    meta = obj["metadata"]
    _record_policy(meta, options.propagation_policy)
    now = datetime.datetime.now(datetime.UTC)
    if meta.get("deletionTimestamp"):
        # Already deleting: a shorter grace period (0 = the node agent confirming) may finish it.
        if options.grace_period_seconds is not None and options.grace_period_seconds < int(
            meta.get("deletionGracePeriodSeconds") or 0
        ):
            meta["deletionGracePeriodSeconds"] = options.grace_period_seconds
            meta["deletionTimestamp"] = _rfc3339(
                now + datetime.timedelta(seconds=options.grace_period_seconds)
            )
        if strategy.pending_finalizers(obj) or meta.get("deletionGracePeriodSeconds"):
            return obj
        return None
    grace = strategy.grace_period(current, options.grace_period_seconds)
    if grace <= 0 and not strategy.pending_finalizers(obj):
        return None
    meta["deletionTimestamp"] = _rfc3339(now + datetime.timedelta(seconds=max(grace, 0)))
    meta["deletionGracePeriodSeconds"] = max(grace, 0)
    strategy.mark_deleting(obj)
    return obj
