"""Per-kind write rules that the generic storage cannot guess.

Most kinds need nothing here. Namespaces start Active, carry the `kubernetes` finalizer that the namespace
controller removes after emptying them, and turn Terminating when deleted. Pods start Pending and are
deleted gracefully once they are on a node (the node agent confirms with a zero grace period).
"""

from __future__ import annotations

from typing import Any

# Namespaces the server creates and that can never be deleted.
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")


class Strategy:
    """The defaults: no extra fields, immediate deletion, metadata finalizers only, no expiry."""

    ttl_seconds: float | None = None

    def prepare_create(self, obj: dict[str, Any]) -> None:
        return None

    def prepare_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        return None

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        """Seconds the object lingers after DELETE before it is removed (0 = at once)."""
        return 0

    def mark_deleting(self, obj: dict[str, Any]) -> None:
        """Changes made when deletion starts but cannot finish yet."""
        return None

    def pending_finalizers(self, obj: dict[str, Any]) -> bool:
        return bool(obj["metadata"].get("finalizers"))


class NamespaceStrategy(Strategy):
    def prepare_create(self, obj: dict[str, Any]) -> None:
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}

    def prepare_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        # spec.finalizers change only through the /finalize subresource.
        new["spec"] = old.get("spec", {})

    def mark_deleting(self, obj: dict[str, Any]) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"

    def pending_finalizers(self, obj: dict[str, Any]) -> bool:
        return super().pending_finalizers(obj) or bool((obj.get("spec") or {}).get("finalizers"))


class PodStrategy(Strategy):
    def prepare_create(self, obj: dict[str, Any]) -> None:
        obj["status"] = {"phase": "Pending"}

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        # A pod no node runs, or that has finished, has nothing to wait for.
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(requested, 0)
        return int(spec.get("terminationGracePeriodSeconds", 30))


class EventStrategy(Strategy):
    # Events are a record, not state: each expires an hour after its last write.
    ttl_seconds = 3600.0


_BY_RESOURCE: dict[tuple[str, str], Strategy] = {
    ("", "namespaces"): NamespaceStrategy(),
    ("", "pods"): PodStrategy(),
    ("", "events"): EventStrategy(),
    ("events.k8s.io", "events"): EventStrategy(),
}
_DEFAULT = Strategy()


def for_resource(group: str, plural: str) -> Strategy:
    return _BY_RESOURCE.get((group, plural), _DEFAULT)
