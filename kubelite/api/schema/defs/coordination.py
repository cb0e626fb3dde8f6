"""coordination.k8s.io/v1: Lease, used for leader election and node heartbeats."""

from __future__ import annotations

from kubelite.api.schema.dsl import api_package, int32, micro_time, ref, string

coordination = api_package("coordination.k8s.io", "v1")

LeaseSpec = coordination.struct(
    "LeaseSpec",
    "Who holds a lease and for how long.",
    holderIdentity=string("Identity of the current holder."),
    leaseDurationSeconds=int32("Seconds after renewTime before other candidates may take the lease over."),
    acquireTime=micro_time("When the current holder acquired the lease."),
    renewTime=micro_time("When the current holder last renewed the lease."),
    leaseTransitions=int32("How many times the lease changed holders."),
    strategy=string("How coordinated leader election picks the holder, such as OldestEmulationVersion."),
    preferredHolder=string("Holder the coordinator would like to take the lease next."),
)

Lease = coordination.kind(
    "Lease",
    "A lease on a named resource, held by one identity at a time.",
    spec=ref(LeaseSpec, "The lease's holder and timing."),
)
LeaseList = coordination.list_of(Lease)
