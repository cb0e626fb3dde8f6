"""Field numbers of the named API groups kubelite serves, one package per group version."""

PACKAGES: dict[str, dict[str, str]] = {
    "io.k8s.api.apps.v1.": {
        "ControllerRevision": "metadata=1 data=2 revision=3",
        "ControllerRevisionList": "metadata=1 items=2",
        "DaemonSet": "metadata=1 spec=2 status=3",
        "DaemonSetCondition": "type=1 status=2 lastTransitionTime=3 reason=4 message=5",
        "DaemonSetList": "metadata=1 items=2",
        "DaemonSetSpec": "selector=1 template=2 updateStrategy=3 minReadySeconds=4 revisionHistoryLimit=6?",
        "DaemonSetStatus": (
            "currentNumberScheduled=1 numberMisscheduled=2 desiredNumberScheduled=3 numberReady=4 "
            "observedGeneration=5 updatedNumberScheduled=6 numberAvailable=7 numberUnavailable=8 "
            "collisionCount=9? conditions=10"
        ),
        "DaemonSetUpdateStrategy": "type=1 rollingUpdate=2",
        "Deployment": "metadata=1 spec=2 status=3",
        "DeploymentCondition": "type=1 status=2 lastUpdateTime=6 lastTransitionTime=7 reason=4 message=5",
        "DeploymentList": "metadata=1 items=2",
        "DeploymentSpec": (
            "replicas=1? selector=2 template=3 strategy=4 minReadySeconds=5 revisionHistoryLimit=6? paused=7 "
            "progressDeadlineSeconds=9?"
        ),
        "DeploymentStatus": (
            "observedGeneration=1 replicas=2 updatedReplicas=3 readyReplicas=7 availableReplicas=4 "
            "unavailableReplicas=5 terminatingReplicas=9? conditions=6 collisionCount=8?"
        ),
        "DeploymentStrategy": "type=1 rollingUpdate=2",
        "ReplicaSet": "metadata=1 spec=2 status=3",
        "ReplicaSetCondition": "type=1 status=2 lastTransitionTime=3 reason=4 message=5",
        "ReplicaSetList": "metadata=1 items=2",
        "ReplicaSetSpec": "replicas=1? minReadySeconds=4 selector=2 template=3",
        "ReplicaSetStatus": (
            "replicas=1 fullyLabeledReplicas=2 readyReplicas=4 availableReplicas=5 terminatingReplicas=7? "
            "observedGeneration=3 conditions=6"
        ),
        "RollingUpdateDaemonSet": "maxUnavailable=1 maxSurge=2",
        "RollingUpdateDeployment": "maxUnavailable=1 maxSurge=2",
        "RollingUpdateStatefulSetStrategy": "partition=1? maxUnavailable=2",
        "StatefulSet": "metadata=1 spec=2 status=3",
        "StatefulSetCondition": "type=1 status=2 lastTransitionTime=3 reason=4 message=5",
        "StatefulSetList": "metadata=1 items=2",
        "StatefulSetOrdinals": "start=1",
        "StatefulSetPersistentVolumeClaimRetentionPolicy": "whenDeleted=1 whenScaled=2",
        "StatefulSetSpec": (
            "replicas=1? selector=2 template=3 volumeClaimTemplates=4 serviceName=5 podManagementPolicy=6 "
            "updateStrategy=7 revisionHistoryLimit=8? minReadySeconds=9 "
            "persistentVolumeClaimRetentionPolicy=10 ordinals=11"
        ),
        "StatefulSetStatus": (
            "observedGeneration=1 replicas=2 readyReplicas=3 currentReplicas=4 updatedReplicas=5 "
            "currentRevision=6 updateRevision=7 collisionCount=9? conditions=10 availableReplicas=11"
        ),
        "StatefulSetUpdateStrategy": "type=1 rollingUpdate=2",
    },
    "io.k8s.api.autoscaling.v1.": {
        "Scale": "metadata=1 spec=2 status=3",
        "ScaleSpec": "replicas=1",
        "ScaleStatus": "replicas=1 selector=2",
    },
    "io.k8s.api.batch.v1.": {
        "CronJob": "metadata=1 spec=2 status=3",
        "CronJobList": "metadata=1 items=2",
        "CronJobSpec": (
            "schedule=1 timeZone=8? startingDeadlineSeconds=2? concurrencyPolicy=3 suspend=4? jobTemplate=5 "
            "successfulJobsHistoryLimit=6? failedJobsHistoryLimit=7?"
        ),
        "CronJobStatus": "active=1 lastScheduleTime=4 lastSuccessfulTime=5",
        "Job": "metadata=1 spec=2 status=3",
        "JobCondition": "type=1 status=2 lastProbeTime=3 lastTransitionTime=4 reason=5 message=6",
        "JobList": "metadata=1 items=2",
        "JobSpec": (
            "parallelism=1? completions=2? activeDeadlineSeconds=3? podFailurePolicy=11 successPolicy=16 "
            "backoffLimit=7? backoffLimitPerIndex=12? maxFailedIndexes=13? selector=4 manualSelector=5? "
            "template=6 ttlSecondsAfterFinished=8? completionMode=9? suspend=10? podReplacementPolicy=14? "
            "managedBy=15? scheduling=17"
        ),
        "JobStatus": (
            "conditions=1 startTime=2 completionTime=3 active=4 succeeded=5 failed=6 terminating=11? "
            "completedIndexes=7 failedIndexes=10? uncountedTerminatedPods=8 ready=9?"
        ),
        "JobTemplateSpec": "metadata=1 spec=2",
        "PodFailurePolicy": "rules=1",
        "PodFailurePolicyOnExitCodesRequirement": "containerName=1? operator=2 values=3",
        "PodFailurePolicyOnPodConditionsPattern": "type=1 status=2",
        "PodFailurePolicyRule": "action=1 onExitCodes=2 onPodConditions=3",
        "SuccessPolicy": "rules=1",
        "SuccessPolicyRule": "succeededIndexes=1? succeededCount=2?",
        "UncountedTerminatedPods": "succeeded=1 failed=2",
    },
    "io.k8s.api.authentication.v1.": {
        "BoundObjectReference": "kind=1 apiVersion=2 name=3 uid=4",
        "TokenRequest": "metadata=1 spec=2 status=3",
        "TokenRequestSpec": "audiences=1 expirationSeconds=4? boundObjectRef=3",
        "TokenRequestStatus": "token=1 expirationTimestamp=2",
    },
    "io.k8s.api.coordination.v1.": {
        "Lease": "metadata=1 spec=2",
        "LeaseList": "metadata=1 items=2",
        "LeaseSpec": (
            "holderIdentity=1? leaseDurationSeconds=2? acquireTime=3 renewTime=4 leaseTransitions=5? "
            "strategy=6? preferredHolder=7?"
        ),
    },
    "io.k8s.api.discovery.v1.": {
        "Endpoint": (
            "addresses=1 conditions=2 hostname=3? targetRef=4 deprecatedTopology=5 nodeName=6? zone=7? "
            "hints=8"
        ),
        "EndpointConditions": "ready=1? serving=2? terminating=3?",
        "EndpointHints": "forZones=1 forNodes=2",
        "EndpointPort": "name=1? protocol=2? port=3? appProtocol=4?",
        "EndpointSlice": "metadata=1 addressType=4 endpoints=2 ports=3",
        "EndpointSliceList": "metadata=1 items=2",
        "ForNode": "name=1",
        "ForZone": "name=1",
    },
    "io.k8s.api.events.v1.": {
        "Event": (
            "metadata=1 eventTime=2 series=3 reportingController=4 reportingInstance=5 action=6 reason=7 "
            "regarding=8 related=9 note=10 type=11 deprecatedSource=12 deprecatedFirstTimestamp=13 "
            "deprecatedLastTimestamp=14 deprecatedCount=15"
        ),
        "EventList": "metadata=1 items=2",
        "EventSeries": "count=1 lastObservedTime=2",
    },
    "io.k8s.api.policy.v1.": {
        "Eviction": "metadata=1 deleteOptions=2",
        "PodDisruptionBudget": "metadata=1 spec=2 status=3",
        "PodDisruptionBudgetList": "metadata=1 items=2",
        "PodDisruptionBudgetSpec": "minAvailable=1 selector=2 maxUnavailable=3 unhealthyPodEvictionPolicy=4?",
        "PodDisruptionBudgetStatus": (
            "observedGeneration=1 disruptedPods=2 disruptionsAllowed=3 currentHealthy=4 desiredHealthy=5 "
            "expectedPods=6 conditions=7"
        ),
    },
    "io.k8s.api.storage.v1.": {
        "StorageClass": (
            "metadata=1 provisioner=2 parameters=3 reclaimPolicy=4? mountOptions=5 allowVolumeExpansion=6? "
            "volumeBindingMode=7? allowedTopologies=8"
        ),
        "StorageClassList": "metadata=1 items=2",
    },
}
