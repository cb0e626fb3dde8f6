"""batch/v1: Job (run pods to completion) and CronJob (create Jobs on a schedule).

Upstream's JobSpec also has `scheduling`, an unreleased alpha field (WorkloadWithJob) whose types live in the
scheduling.k8s.io/v1alpha3 group; kubelite serves neither, so the field is left out.
"""

from __future__ import annotations

from kubelite.api.schema.defs.meta import LabelSelector
from kubelite.api.schema.dsl import (
    OBJECT_META,
    api_package,
    array,
    boolean,
    int32,
    int64,
    ref,
    string,
    time,
)

batch = api_package("batch", "v1")

POD_TEMPLATE_SPEC = "io.k8s.api.core.v1.PodTemplateSpec"
OBJECT_REFERENCE = "io.k8s.api.core.v1.ObjectReference"

# ---- failure and success policies ----

PodFailurePolicyOnExitCodesRequirement = batch.struct(
    "PodFailurePolicyOnExitCodesRequirement",
    "Matches a failed pod by the exit codes of its containers.",
    containerName=string("Only this container's exit code is checked; empty means every container."),
    operator=string("In or NotIn: whether the exit code must be among the values.", required=True),
    values=array(int32(), "Exit codes to compare with; In may not list 0.", required=True, list_type="set"),
)

PodFailurePolicyOnPodConditionsPattern = batch.struct(
    "PodFailurePolicyOnPodConditionsPattern",
    "Matches a failed pod by one of its conditions.",
    type=string("The pod condition type to look for, such as DisruptionTarget.", required=True),
    status=string("The condition status to match; defaults to True."),
)

PodFailurePolicyRule = batch.struct(
    "PodFailurePolicyRule",
    "What to do with a failed pod that matches exit codes or pod conditions.",
    action=string("FailJob, FailIndex, Ignore or Count.", required=True),
    onExitCodes=ref(PodFailurePolicyOnExitCodesRequirement, "Match on container exit codes."),
    onPodConditions=array(
        PodFailurePolicyOnPodConditionsPattern,
        "Match when any of these pod conditions is present.",
        list_type="atomic",
    ),
)

PodFailurePolicy = batch.struct(
    "PodFailurePolicy",
    "How pod failures count towards backoffLimit, or end the Job or an index at once.",
    rules=array(
        PodFailurePolicyRule, "Rules tried in order; the first match wins.", required=True, list_type="atomic"
    ),
)

SuccessPolicyRule = batch.struct(
    "SuccessPolicyRule",
    "A condition on succeeded indexes that makes an Indexed Job succeed early.",
    succeededIndexes=string("Indexes that must all succeed, as a list of numbers and ranges such as 1,3-5."),
    succeededCount=int32("How many of succeededIndexes (or of all indexes) must succeed."),
)

SuccessPolicy = batch.struct(
    "SuccessPolicy",
    "When an Indexed Job may be declared succeeded before every index has.",
    rules=array(
        SuccessPolicyRule, "Rules ORed together; any one met ends the Job.", required=True, list_type="atomic"
    ),
)

# ---- Job ----

JobSpec = batch.struct(
    "JobSpec",
    "The desired behaviour of a Job.",
    parallelism=int32("Most pods running at once; defaults to 1."),
    completions=int32("Successful pods needed for the Job to succeed; unset means any one success."),
    activeDeadlineSeconds=int64("Seconds since start after which the Job is failed and its pods stopped."),
    podFailurePolicy=ref(PodFailurePolicy, "How pod failures are handled."),
    successPolicy=ref(SuccessPolicy, "When an Indexed Job counts as succeeded early."),
    backoffLimit=int32("Retries before the Job is marked failed; defaults to 6."),
    backoffLimitPerIndex=int32("Retries per index of an Indexed Job before that index fails."),
    maxFailedIndexes=int32("Failed indexes tolerated before the whole Job fails; with backoffLimitPerIndex."),
    selector=ref(LabelSelector, "Pods owned by the Job; generated unless manualSelector is true."),
    manualSelector=boolean("Use the given selector as is instead of generating one."),
    template=ref(POD_TEMPLATE_SPEC, "The pods to run; restartPolicy Never or OnFailure.", required=True),
    ttlSecondsAfterFinished=int32("Seconds after finishing before the Job is deleted automatically."),
    completionMode=string("NonIndexed (the default) or Indexed: each pod gets a completion index."),
    suspend=boolean("While true no pods are created and running ones are stopped."),
    podReplacementPolicy=string("When a replacement pod is created: TerminatingOrFailed or Failed."),
    managedBy=string("Controller that syncs the Job; the built-in one skips Jobs managed by another."),
)

UncountedTerminatedPods = batch.struct(
    "UncountedTerminatedPods",
    "UIDs of finished pods not yet counted in the Job's status counters.",
    succeeded=array(string(), "UIDs of succeeded pods.", list_type="set"),
    failed=array(string(), "UIDs of failed pods.", list_type="set"),
)

JobCondition = batch.struct(
    "JobCondition",
    "One aspect of a Job's current state, such as Complete or Failed.",
    type=string("Type of the condition.", required=True),
    status=string("True, False or Unknown.", required=True),
    lastProbeTime=time("When the condition was last checked."),
    lastTransitionTime=time("When the status last changed."),
    reason=string("Machine-readable CamelCase reason for the last transition."),
    message=string("Human-readable details of the last transition."),
)

JobStatus = batch.struct(
    "JobStatus",
    "The most recently observed state of a Job.",
    conditions=array(
        JobCondition,
        "The latest observations of the Job's state.",
        list_type="atomic",
        merge_key="type",
        strategy="merge",
    ),
    startTime=time("When the controller started working on the Job."),
    completionTime=time("When the Job finished successfully."),
    active=int32("Pods pending or running."),
    succeeded=int32("Pods that succeeded."),
    failed=int32("Pods that failed."),
    terminating=int32("Pods being terminated (deletionTimestamp set) but not yet gone."),
    completedIndexes=string("Succeeded indexes of an Indexed Job, as numbers and ranges such as 1,3-5."),
    failedIndexes=string("Failed indexes when backoffLimitPerIndex is set, in the same form."),
    uncountedTerminatedPods=ref(UncountedTerminatedPods, "Finished pods whose finalizer is not yet removed."),
    ready=int32("Pods whose Ready condition is true."),
)

Job = batch.kind(
    "Job",
    "Runs pods until a given number of them complete successfully.",
    spec=ref(JobSpec, "The desired behaviour of the Job."),
    status=ref(JobStatus, "The observed state; written by the controller."),
)
JobList = batch.list_of(Job)

# ---- CronJob ----

JobTemplateSpec = batch.struct(
    "JobTemplateSpec",
    "The Job a CronJob creates on each run.",
    metadata=ref(OBJECT_META, "Metadata copied onto the created Jobs."),
    spec=ref(JobSpec, "Spec of the created Jobs."),
)

CronJobSpec = batch.struct(
    "CronJobSpec",
    "The desired behaviour of a CronJob.",
    schedule=string("Cron expression, such as */5 * * * *.", required=True),
    timeZone=string("IANA time zone of the schedule, such as Europe/Paris; defaults to the controller's."),
    startingDeadlineSeconds=int64("Seconds after a missed start during which the run may still begin."),
    concurrencyPolicy=string("Allow (the default), Forbid or Replace runs that overlap."),
    suspend=boolean("While true no new runs start; running Jobs are left alone."),
    jobTemplate=ref(JobTemplateSpec, "The Job created on each run.", required=True),
    successfulJobsHistoryLimit=int32("Finished successful Jobs kept; defaults to 3."),
    failedJobsHistoryLimit=int32("Failed Jobs kept; defaults to 1."),
)

CronJobStatus = batch.struct(
    "CronJobStatus",
    "The most recently observed state of a CronJob.",
    active=array(ref(OBJECT_REFERENCE), "The Jobs currently running.", list_type="atomic"),
    lastScheduleTime=time("When a Job was last scheduled."),
    lastSuccessfulTime=time("When a Job last completed successfully."),
)

CronJob = batch.kind(
    "CronJob",
    "Creates Jobs on a repeating schedule.",
    spec=ref(CronJobSpec, "The desired behaviour of the CronJob.", required=True),
    status=ref(CronJobStatus, "The observed state; written by the controller."),
)
CronJobList = batch.list_of(CronJob)
