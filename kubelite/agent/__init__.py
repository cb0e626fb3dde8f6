"""Node agents: what makes a node of the cluster out of a machine (or, with the fake runtime, out of nothing).

`fake` registers simulated nodes (kwok-like) that keep their Leases fresh and play the kubelet's part for
the pods bound to them (`fakepods`): Running with an IP at once, Jobs' pods finishing, deletions confirmed.
"""
