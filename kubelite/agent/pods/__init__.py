"""The kubelet's pod loop: sync each pod bound to this node toward its spec, and report its status."""
