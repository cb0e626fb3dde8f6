"""Service addresses, allocated by the API server when a Service is written, as upstream does it.

Cluster IPs come from the service CIDR and node ports from the node port range. Each allocated value is a
reservation key in the store, created only if absent, so two API servers sharing one store can never hand
out the same address; a failed write gives back what it reserved. The `kubernetes` Service, at the range's
first address, is created and kept pointing at this API server at start.
"""
