"""policy/v1: Eviction (the body of pods/eviction) and PodDisruptionBudget, which evictions must respect."""

from __future__ import annotations

from kubelite.api.schema.defs.meta import Condition, DeleteOptions, LabelSelector
from kubelite.api.schema.dsl import api_package, array, int32, int64, int_or_string, map_of, ref, string, time

policy = api_package("policy", "v1")

PodDisruptionBudgetSpec = policy.struct(
    "PodDisruptionBudgetSpec",
    "How many of the selected pods a voluntary disruption must leave.",
    minAvailable=int_or_string("Pods, or a percentage of them, that must stay available after an eviction."),
    selector=ref(
        LabelSelector,
        "The pods the budget covers; an empty selector covers every pod of the namespace.",
        strategy="replace",
    ),
    maxUnavailable=int_or_string("Pods, or a percentage of them, that may be unavailable after an eviction."),
    unhealthyPodEvictionPolicy=string("Evicting unready pods: IfHealthyBudget (the default) or AlwaysAllow."),
)

PodDisruptionBudgetStatus = policy.struct(
    "PodDisruptionBudgetStatus",
    "The most recently observed state of a PodDisruptionBudget.",
    observedGeneration=int64("The metadata.generation the controller last acted on."),
    disruptedPods=map_of(
        time(), "Pods evicted but not yet seen deleted, with the time of eviction; cleared after a timeout."
    ),
    disruptionsAllowed=int32("Disruptions currently allowed."),
    currentHealthy=int32("Selected pods that are currently healthy."),
    desiredHealthy=int32("Healthy pods the budget requires."),
    expectedPods=int32("Pods the budget covers in total."),
    conditions=array(
        ref(Condition),
        "The latest observations of the budget, such as DisruptionAllowed.",
        list_type="map",
        map_keys=("type",),
        merge_key="type",
        strategy="merge",
    ),
)

PodDisruptionBudget = policy.kind(
    "PodDisruptionBudget",
    "Limits how many pods of a set voluntary disruptions (evictions) may take down at once.",
    spec=ref(PodDisruptionBudgetSpec, "The desired budget."),
    status=ref(PodDisruptionBudgetStatus, "The observed state; written by the disruption controller."),
)
PodDisruptionBudgetList = policy.list_of(PodDisruptionBudget)

Eviction = policy.kind(
    "Eviction",
    "A request to evict a pod, honouring disruption budgets; posted to the pod's eviction subresource.",
    deleteOptions=ref(DeleteOptions, "Options of the pod deletion the eviction performs."),
)
