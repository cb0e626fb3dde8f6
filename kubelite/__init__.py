"""kubelite: a Kubernetes you can run, read and trust. See docs/architecture.md."""

__version__ = "0.1.0"
