"""The Job controller: runs a Job's pods to completion, retrying failures with back-off, within its limits.

One level-triggered reconcile per Job:

0. Claim pods as the ReplicaSet controller does: pods matching the selector without a controller are adopted
   (with the tracking finalizer), owned pods that stopped matching are released.
1. Account for finished pods the way upstream does, so none is counted twice or lost: every pod carries the
   batch.kubernetes.io/job-tracking finalizer; a finished pod's uid first goes into
   status.uncountedTerminatedPods (Indexed successes straight into completedIndexes), then its finalizer is
   removed, then it moves into status.succeeded / status.failed. A podFailurePolicy may ignore a failure
   or fail the Job at once (kubelite.controllers.jobfailurepolicy). With backoffLimitPerIndex, failures
   also fail indexes (status.failedIndexes; kubelite.controllers.jobindexes).
2. Decide the outcome: too many failures (backoffLimit, maxFailedIndexes, every index finished with some
   failed) or too long active (activeDeadlineSeconds) set FailureTarget; enough successes, or a met
   successPolicy rule, set SuccessCriteriaMet. Either one ends the remaining pods, and once none is left the
   terminal condition (Failed / Complete, with the same reason) follows, as in Kubernetes 1.32.
3. Otherwise keep `parallelism` pods running (fewer when fewer completions remain), waiting out the
   exponential back-off after failures; Indexed Jobs run one pod per unfinished index, with a back-off of
   its own per index under backoffLimitPerIndex.
4. A finished Job with ttlSecondsAfterFinished is deleted (background propagation) when its time is up.

Time comes from an injectable clock; the back-off base is configurable so tests need not wait 10 s.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from kubelite.api import selectors
from kubelite.client import errors, paths
from kubelite.client.cache import Snapshot, object_key
from kubelite.client.controller import Controller, RequeueAfter, owner_keys
from kubelite.client.events import WARNING
from kubelite.client.frozen import thaw
from kubelite.controllers import jobfailurepolicy, jobindexes, jobpods, jobstatus, ownership
from kubelite.controllers.clock import Clock, SystemClock, format_time, parse_time
from kubelite.controllers.context import ControllerContext
from kubelite.controllers.expectations import Expectations
from kubelite.controllers.owned import controlled_by, index_by_owner
from kubelite.controllers.replicaset import CONTROLLERLESS_INDEX, controllerless_namespace

JOBS = paths.resource("batch", "v1", "jobs")
PODS = paths.resource("", "v1", "pods")
BACKOFF_BASE = 10.0
BACKOFF_CAP = 360.0
_FAILURES = {
    "BackoffLimitExceeded": "Job has reached the specified backoff limit",
    "DeadlineExceeded": "Job was active longer than specified deadline",
}


class JobController:
    def __init__(
        self,
        ctx: ControllerContext,
        *,
        clock: Clock | None = None,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
    ) -> None:
        self.client = ctx.client
        self.clock: Clock = clock or SystemClock()
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.recorder = ctx.recorder("job-controller")
        self.jobs = ctx.informers.informer(JOBS)
        self.pods = ctx.informers.informer(PODS)
        index_by_owner(self.pods.cache)
        self.pods.add_indexers({CONTROLLERLESS_INDEX: controllerless_namespace})
        self.expectations = Expectations()
        # Pods this controller deleted on purpose (suspension, surplus, the Job ending): not failures.
        self._deliberate: dict[str, set[str]] = {}  # by Job key: pod uids
        # Pods whose finalizer this controller removed (already counted) while the cache may still show it.
        self._released: dict[str, set[str]] = {}  # by Job key: pod uids
        # When a Job's last failure was counted, for the back-off of its next pod.
        self._last_failure: dict[str, datetime.datetime] = {}  # by Job key
        # status.failed when a success was last counted: back-off grows with the failures since then only.
        self._failed_at_success: dict[str, int] = {}
        # The same per index, for Jobs with backoffLimitPerIndex.
        self._index_failure: dict[str, dict[int, datetime.datetime]] = {}  # by Job key: by index
        self.controller = Controller("job", self.reconcile, workers=2)
        self.controller.watch(self.jobs)
        self.controller.watch(self.pods, keys=self._pod_job_keys)
        self.pods.add_handlers(on_add=self._pod_added, on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.controller.run()

    def _job_key(self, pod: Snapshot) -> str | None:
        keys = list(owner_keys("Job")(pod))
        return keys[0] if keys else None

    def _pod_job_keys(self, pod: Snapshot) -> list[str]:
        meta = pod.get("metadata") or {}
        if ownership.controller_ref(meta) is not None:
            return list(owner_keys("Job")(pod))
        labels = meta.get("labels") or {}
        return [  # an orphan wakes every unfinished Job that might adopt it
            object_key(job)
            for job in self.jobs.cache.list(namespace=meta.get("namespace"))
            if not jobstatus.job_finished(job) and _selector(job).matches(labels)
        ]

    def _pod_added(self, pod: Snapshot) -> None:
        key = self._job_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)

    def _pod_deleted(self, pod: Snapshot) -> None:
        key = self._job_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, object_key(pod))

    async def reconcile(self, key: str) -> None:
        job = self.jobs.cache.get(key)
        if job is None:
            self._forget(key)
            return
        pods = controlled_by(self.pods.cache, job)
        if job["metadata"].get("deletionTimestamp") or jobstatus.job_finished(job):
            await self._release(key, pods, lambda pod: True)
            self._forget(key)
            if not job["metadata"].get("deletionTimestamp"):
                await self._expire(job)
            return
        pods = await self._claim(job, pods)
        job = await self._track(job, pods)
        await self._sync(key, job, pods)

    # 0. Claiming pods

    async def _claim(self, job: Snapshot, pods: list[Snapshot]) -> list[Snapshot]:
        """The pods this Job controls after releasing those that stopped matching its selector and adopting
        matching orphans, as upstream's ControllerRefManager (the tracking finalizer comes and goes with
        the ownerReference, so an adopted pod's outcome is counted)."""
        meta = job["metadata"]
        try:
            selector = selectors.from_label_selector(job["spec"].get("selector"))
        except selectors.SelectorError:
            return list(pods)  # neither release nor adopt by a selector that cannot be read (as upstream)
        claimed: list[Snapshot] = []
        for pod in pods:
            if selector.matches(pod["metadata"].get("labels")):
                claimed.append(pod)
            else:
                uid = str(meta["uid"])
                await ownership.release(self.client, PODS, pod, uid, finalizer=jobpods.TRACKING_FINALIZER)
        orphans = [
            pod
            for pod in self.pods.cache.by_index(CONTROLLERLESS_INDEX, str(meta["namespace"]))
            if not pod["metadata"].get("deletionTimestamp")
            and selector.matches(pod["metadata"].get("labels"))
        ]
        if orphans and await self._still_same_job(job):
            for pod in orphans:
                adopted = await ownership.adopt(
                    self.client, PODS, pod, job, JOBS, finalizer=jobpods.TRACKING_FINALIZER
                )
                if adopted is not None:
                    claimed.append(adopted)
        return claimed

    async def _still_same_job(self, job: Snapshot) -> bool:
        """Adopt only for a Job that still exists and is not being deleted (read fresh, as upstream)."""
        meta = job["metadata"]
        try:
            fresh = await self.client.get(JOBS, str(meta["name"]), namespace=str(meta["namespace"]))
        except errors.NotFound:
            return False
        fresh_meta = fresh.get("metadata") or {}
        return fresh_meta.get("uid") == meta["uid"] and not fresh_meta.get("deletionTimestamp")

    # 1. Accounting for finished pods

    async def _track(self, job: Snapshot, pods: list[Snapshot]) -> Snapshot:
        status = thaw(job.get("status") or {})
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        indexed = job["spec"].get("completionMode") == "Indexed"
        per_index = jobindexes.per_index(job["spec"])
        completed = jobpods.parse_indexes(status.get("completedIndexes"))
        failed_indexes = jobpods.parse_indexes(status.get("failedIndexes"))
        listed = {uid for uids in uncounted.values() for uid in uids}
        deliberate = self._deliberate.setdefault(object_key(job), set())
        released = self._released.setdefault(object_key(job), set())
        for pod in pods:
            uid, result = str(pod["metadata"]["uid"]), jobpods.outcome(pod)
            if not jobpods.has_finalizer(pod):
                released.discard(uid)  # the cache caught up
                continue
            if result is None or uid in listed or uid in deliberate or uid in released:
                continue
            if result == "Failed" and not self._apply_failure_policy(job, pod, status):
                deliberate.add(uid)  # ignored: released without counting
                continue
            index = jobpods.completion_index(pod)
            if per_index and index is not None and result == "Failed":
                self._index_failure.setdefault(object_key(job), {})[index] = self.clock.now()
                if index not in completed and jobindexes.index_failed(job["spec"], pod):
                    failed_indexes.add(index)
            if indexed and result == "Succeeded" and index in failed_indexes:
                deliberate.add(uid)  # a late success of an index already failed: released, not counted
            elif indexed and result == "Succeeded" and index is not None:
                completed.add(index)
            else:
                uncounted.setdefault(result.lower(), []).append(uid)
        if indexed:
            status["completedIndexes"] = jobpods.format_indexes(completed)
        if per_index:
            status["failedIndexes"] = jobpods.format_indexes(failed_indexes)
        job = await self._write_status(job, status)
        # Every pod now accounted for in the stored status may let go of its finalizer.
        written = job.get("status") or {}
        listed = {uid for uids in (written.get("uncountedTerminatedPods") or {}).values() for uid in uids}
        done = jobpods.parse_indexes(written.get("completedIndexes"))
        await self._release(
            object_key(job),
            pods,
            lambda pod: (
                str(pod["metadata"]["uid"]) in listed
                or str(pod["metadata"]["uid"]) in deliberate
                or (jobpods.outcome(pod) == "Succeeded" and jobpods.completion_index(pod) in done and indexed)
            ),
        )
        status = thaw(written)
        uncounted = status.get("uncountedTerminatedPods") or {}
        for result in ("succeeded", "failed"):
            uids = uncounted.pop(result, [])
            if result == "succeeded" and uids:
                self._failed_at_success[object_key(job)] = status.get("failed", 0)
            if result == "failed" and uids:
                self._last_failure[object_key(job)] = self.clock.now()
            status[result] = status.get(result, 0) + len(uids)
        if indexed:
            status["succeeded"] = len(done)
        return await self._write_status(job, status)

    def _apply_failure_policy(self, job: Snapshot, pod: Snapshot, status: dict[str, Any]) -> bool:
        """Whether a failed pod counts; a FailJob match also sets FailureTarget (once)."""
        match = jobfailurepolicy.evaluate(job["spec"], pod)
        if match is None or match.action == jobfailurepolicy.COUNT:
            return True
        if match.action == jobfailurepolicy.IGNORE:
            return False
        if match.action == jobfailurepolicy.FAIL_JOB and not any(
            jobstatus.is_true(status, kind) for kind in ("FailureTarget", "SuccessCriteriaMet")
        ):
            jobstatus.set_condition(
                status,
                "FailureTarget",
                "True",
                reason="PodFailurePolicy",
                message=match.message,
                now=self.clock.now(),
            )
        return True

    async def _release(self, key: str, pods: list[Snapshot], chosen: Callable[[Snapshot], bool]) -> None:
        """Remove the tracking finalizer from the chosen pods that still carry it (and remember having done
        so, lest a cache that lags behind make them look uncounted)."""
        released = self._released.setdefault(key, set())
        for pod in pods:
            if not jobpods.has_finalizer(pod) or not chosen(pod) or pod["metadata"]["uid"] in released:
                continue
            meta = pod["metadata"]
            rest = [f for f in meta.get("finalizers") or () if f != jobpods.TRACKING_FINALIZER]
            patch = {"metadata": {"finalizers": rest or None, "resourceVersion": meta["resourceVersion"]}}
            try:
                await self.client.patch(PODS, str(meta["name"]), patch, namespace=meta["namespace"])
            except (errors.NotFound, errors.Conflict):
                continue  # gone, or changed meanwhile: its next event brings it back here
            released.add(str(meta["uid"]))

    # 2-3. Outcome and pods

    async def _sync(self, key: str, job: Snapshot, pods: list[Snapshot]) -> None:
        spec, status = job["spec"], thaw(job.get("status") or {})
        now = self.clock.now()
        active = [p for p in pods if jobpods.outcome(p) is None]
        status["active"] = len(active)
        status["ready"] = sum(1 for p in active if jobpods.is_ready(p))
        status["terminating"] = sum(
            1 for p in pods if p["metadata"].get("deletionTimestamp") and not jobpods.finished_phase(p)
        )
        requeue: float | None = None
        if spec.get("suspend"):
            await self._delete_pods(job, active)
            if jobstatus.set_condition(
                status, "Suspended", "True", reason="JobSuspended", message="Job suspended", now=now
            ):
                self.recorder.record(job, reason="Suspended", message="Job suspended")
            status.pop("startTime", None)
            await self._write_status(job, status)
            return
        if jobstatus.is_true(status, "Suspended"):
            jobstatus.set_condition(
                status, "Suspended", "False", reason="JobResumed", message="Job resumed", now=now
            )
            self.recorder.record(job, reason="Resumed", message="Job resumed")
        started = parse_time(status.get("startTime"))
        if started is None:
            started = now
            status["startTime"] = format_time(now)
        self._judge(spec, status, started, now)
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None:
            requeue = max((started + datetime.timedelta(seconds=deadline) - now).total_seconds(), 0.0) + 0.1
        if jobstatus.is_true(status, "FailureTarget") or jobstatus.is_true(status, "SuccessCriteriaMet"):
            await self._delete_pods(job, active)
            if not active and not any(jobpods.has_finalizer(p) for p in pods):
                self._finish(job, status, now)
        elif self.expectations.satisfied(key):
            wait = await self._manage(key, job, status, pods)
            requeue = wait if requeue is None else min(requeue, wait) if wait is not None else requeue
        await self._write_status(job, status)
        if requeue is not None and not jobstatus.job_finished({"status": status}):
            raise RequeueAfter(requeue)

    def _judge(
        self, spec: Any, status: dict[str, Any], started: datetime.datetime, now: datetime.datetime
    ) -> None:
        """Set FailureTarget or SuccessCriteriaMet once the counts decide the Job's outcome."""
        if jobstatus.is_true(status, "FailureTarget") or jobstatus.is_true(status, "SuccessCriteriaMet"):
            return
        failure = None
        if status.get("failed", 0) > spec.get("backoffLimit", 6):
            failure = "BackoffLimitExceeded", _FAILURES["BackoffLimitExceeded"]
        deadline = spec.get("activeDeadlineSeconds")
        if deadline is not None and now >= started + datetime.timedelta(seconds=deadline):
            failure = "DeadlineExceeded", _FAILURES["DeadlineExceeded"]
        if failure is None and jobindexes.per_index(spec):
            failure = jobindexes.judge_failed_indexes(spec, status)
        if failure is not None:
            reason, message = failure
            jobstatus.set_condition(status, "FailureTarget", "True", reason=reason, message=message, now=now)
            return
        if spec.get("completionMode") == "Indexed":
            met = jobindexes.match_success_policy(spec, jobpods.parse_indexes(status.get("completedIndexes")))
            if met is not None:
                jobstatus.set_condition(
                    status, "SuccessCriteriaMet", "True", reason="SuccessPolicy", message=met, now=now
                )
                return
        completions, succeeded = spec.get("completions"), status.get("succeeded", 0)
        done = (
            succeeded >= completions if completions is not None else succeeded > 0 and status["active"] == 0
        )
        if done:
            jobstatus.set_condition(
                status,
                "SuccessCriteriaMet",
                "True",
                reason="CompletionsReached",
                message="Reached expected number of succeeded pods",
                now=now,
            )

    def _finish(self, job: Snapshot, status: dict[str, Any], now: datetime.datetime) -> None:
        target = jobstatus.find(status, "FailureTarget")
        if target is not None and target.get("status") == "True":
            reason, message = str(target["reason"]), str(target["message"])
            jobstatus.set_condition(status, "Failed", "True", reason=reason, message=message, now=now)
            self.recorder.record(job, reason=reason, message=message, event_type=WARNING)
            return
        met = jobstatus.find(status, "SuccessCriteriaMet") or {}
        reason, message = str(met.get("reason", "")), str(met.get("message", ""))
        jobstatus.set_condition(status, "Complete", "True", reason=reason, message=message, now=now)
        status["completionTime"] = format_time(now)
        self.recorder.record(job, reason="Completed", message="Job completed")

    async def _manage(
        self, key: str, job: Snapshot, status: dict[str, Any], pods: list[Snapshot]
    ) -> float | None:
        """Create or delete pods towards the wanted number; returns seconds of back-off left, if any."""
        spec = job["spec"]
        active = [p for p in pods if jobpods.outcome(p) is None]
        parallelism, completions = spec.get("parallelism", 1), spec.get("completions")
        succeeded = status.get("succeeded", 0)
        waits: list[float] = []
        notes: dict[int, dict[str, str]] = {}
        if spec.get("completionMode") == "Indexed" and completions is not None:
            done = jobpods.parse_indexes(status.get("completedIndexes"))
            done |= jobpods.parse_indexes(status.get("failedIndexes"))
            running: dict[int, Snapshot] = {}
            surplus = []
            for pod in active:
                index = jobpods.completion_index(pod)
                if index is None or index >= completions or index in done or index in running:
                    surplus.append(pod)
                else:
                    running[index] = pod
            await self._delete_pods(job, surplus)
            pending = [i for i in range(completions) if i not in done and i not in running]
            if jobindexes.per_index(spec):
                pending, waits, notes = self._indexes_out_of_backoff(key, job, pods, pending)
            wanted: list[int | None] = list(pending[: max(parallelism - len(running), 0)])
        else:
            want = parallelism if completions is None else min(parallelism, completions - succeeded)
            if completions is None and succeeded > 0:
                want = 0
            surplus_count = len(active) - max(want, 0)
            if surplus_count > 0:
                newest = sorted(active, key=lambda p: str(p["metadata"].get("creationTimestamp", "")))
                await self._delete_pods(job, newest[-surplus_count:])
            wanted = [None] * max(-surplus_count, 0)
        if not wanted:
            return min(waits, default=None)
        wait = 0.0 if jobindexes.per_index(spec) else self._backoff_left(job, status)
        if wait > 0:
            return wait
        self.expectations.expect_creations(key, len(wanted))
        for index in wanted:
            try:
                pod = jobpods.new_pod(job, index, notes.get(index) if index is not None else None)
                created = await self.client.create(PODS, pod)
            except errors.ApiError:
                self.expectations.creation_observed(key)
                raise
            message = f"Created pod: {created['metadata']['name']}"
            self.recorder.record(job, reason="SuccessfulCreate", message=message)
        status["active"] = status.get("active", 0) + len(wanted)
        return min(waits, default=None)

    def _indexes_out_of_backoff(
        self, key: str, job: Snapshot, pods: list[Snapshot], pending: list[int]
    ) -> tuple[list[int], list[float], dict[int, dict[str, str]]]:
        """Under backoffLimitPerIndex: the pending indexes whose own back-off is over, the seconds left for
        the others, and the failure-count annotations of each index's next pod."""
        spec, deliberate = job["spec"], self._deliberate.get(key, set())
        failed = jobindexes.failed_pods(spec, pods, deliberate)
        last = self._index_failure.get(key, {})
        ready, waits, notes = [], [], {}
        for index in pending:
            notes[index] = jobindexes.replacement_annotations(spec, failed, index)
            failures = int(notes[index][jobindexes.FAILURE_COUNT])
            left = 0.0
            if failures and index in last:
                delay = min(self.backoff_base * 2 ** (failures - 1), self.backoff_cap)
                left = (last[index] + datetime.timedelta(seconds=delay) - self.clock.now()).total_seconds()
            if left > 0:
                waits.append(left)
            else:
                ready.append(index)
        return ready, waits, notes

    def _backoff_left(self, job: Snapshot, status: dict[str, Any]) -> float:
        failed = status.get("failed", 0) - self._failed_at_success.get(object_key(job), 0)
        last = self._last_failure.get(object_key(job))
        if failed <= 0 or last is None:
            return 0.0
        delay = min(self.backoff_base * 2 ** (failed - 1), self.backoff_cap)
        return max((last + datetime.timedelta(seconds=delay) - self.clock.now()).total_seconds(), 0.0)

    async def _delete_pods(self, job: Snapshot, pods: list[Snapshot]) -> None:
        for pod in pods:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            self._deliberate.setdefault(object_key(job), set()).add(str(meta["uid"]))
            try:
                await self.client.delete(PODS, str(meta["name"]), namespace=meta["namespace"])
            except errors.NotFound:
                continue
            self.recorder.record(job, reason="SuccessfulDelete", message=f"Deleted pod: {meta['name']}")

    # 4. After the end

    def _forget(self, key: str) -> None:
        self.expectations.forget(key)
        self._last_failure.pop(key, None)
        self._failed_at_success.pop(key, None)
        self._index_failure.pop(key, None)
        self._deliberate.pop(key, None)
        self._released.pop(key, None)

    async def _expire(self, job: Snapshot) -> None:
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        finished = jobstatus.job_finish_time(job)
        if ttl is None or finished is None:
            return
        left = (finished + datetime.timedelta(seconds=ttl) - self.clock.now()).total_seconds()
        if left > 0:
            raise RequeueAfter(left)
        meta = job["metadata"]
        try:
            await self.client.delete(
                JOBS,
                str(meta["name"]),
                namespace=meta["namespace"],
                propagation_policy="Background",
                precondition_uid=str(meta["uid"]),
            )
        except (errors.NotFound, errors.Conflict):
            pass

    async def _write_status(self, job: Snapshot, status: dict[str, Any]) -> Snapshot:
        """Store `status` if it differs; returns the Job as stored. Shaped as upstream writes it: zero
        counters omitted (ready and terminating excepted), uncountedTerminatedPods always present."""
        uncounted = status.get("uncountedTerminatedPods") or {}
        status["uncountedTerminatedPods"] = {k: v for k, v in uncounted.items() if v}
        for counter in ("active", "succeeded", "failed"):
            if not status.get(counter):
                status.pop(counter, None)
        if status == thaw(job.get("status") or {}):
            return job
        body = {**thaw(job), "status": status}
        written: Snapshot = await self.client.update(JOBS, body, subresource="status")
        return written


def _selector(job: Snapshot) -> selectors.Selector:
    try:
        return selectors.from_label_selector(job["spec"].get("selector"))
    except selectors.SelectorError:
        return selectors.NOTHING


def new_controller(ctx: ControllerContext) -> JobController:
    return JobController(ctx)
