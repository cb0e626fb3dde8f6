"""The service proxy: Services and EndpointSlices as iptables (nft backend) rules in the node's netns."""
