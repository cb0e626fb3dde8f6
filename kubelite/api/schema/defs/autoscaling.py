"""autoscaling/v1 Scale: the body of every `/scale` subresource (deployments, replicasets, statefulsets,
replicationcontrollers), so scalers can change replicas without knowing the owning kind."""

from __future__ import annotations

from kubelite.api.schema.dsl import api_package, int32, ref, string

autoscaling = api_package("autoscaling", "v1")

ScaleSpec = autoscaling.struct(
    "ScaleSpec",
    "The desired size of the scaled object.",
    replicas=int32("Desired number of replicas; defaults to 0."),
)

ScaleStatus = autoscaling.struct(
    "ScaleStatus",
    "The current size of the scaled object.",
    replicas=int32("Number of replicas observed.", required=True),
    selector=string("Label selector of the pods, in its string form (as with kubectl -l)."),
)

Scale = autoscaling.kind(
    "Scale",
    "The scaling view of a resource.",
    spec=ref(ScaleSpec, "The desired size."),
    status=ref(ScaleStatus, "The current size; read-only."),
)
