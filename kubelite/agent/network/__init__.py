"""Pod sandboxes: a network namespace per pod wired by the real CNI plugins, and the pod's /etc files."""
