"""Cluster DNS (the CoreDNS kubernetes plugin's part): answers from informer caches, the rest forwarded."""
