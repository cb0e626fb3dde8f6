"""The scheduler: binds each Pending pod without a node to a node that can run it.

One idea per module: `resources` (requests as integers), `nodeinfo` (the cache of nodes and the pods counted
on them, assumed binds included), `filters` and `podaffinity` (can this node run the pod, and if not why),
`scores` (which feasible node is best), `failure` (upstream's FailedScheduling message), `cycle` (one
scheduling decision), `queue` (pending, backing-off and unschedulable pods) and `run` (informers, binding,
status and events, leader election).
"""
