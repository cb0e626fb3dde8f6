"""Per-kind write rules that the generic storage cannot guess.

Most kinds need nothing here. Namespaces start Active, carry the `kubernetes` finalizer that the namespace
controller removes after emptying them, and turn Terminating when deleted. Pods start Pending with their
QoS class, have no generation (as in Kubernetes 1.32) and are deleted gracefully once they are on a node
(the node agent confirms with a zero grace period). Jobs select their pods by their own uid. A new
PodDisruptionBudget's status starts at zero: only the disruption controller reports on it.

Kinds that hold something outside their own key (a Service's cluster IP and node ports) reserve it in
`begin_create`/`begin_update`, after admission and before validation, as upstream's BeginCreate and
BeginUpdate hooks do; the registry commits the reservation once the write is stored and aborts it
otherwise, and calls `after_delete` once the object is gone.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.defaults import generate_job_selector
from kubelite.apiserver.qos import qos_class

# Namespaces the server creates and that can never be deleted.
IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")


class Reservation:
    """What a write reserved outside its own key. Nothing, here."""

    async def commit(self) -> None:
        """The write was stored: let go of what the old object held and the new one does not."""
        return None

    async def abort(self) -> None:
        """The write failed: give back what was reserved for it."""
        return None


NOTHING_RESERVED = Reservation()


class Strategy:
    """The defaults: no extra fields, immediate deletion, metadata finalizers only, no expiry."""

    ttl_seconds: float | None = None

    def tracks_generation(self, obj: dict[str, Any]) -> bool:
        """Kinds with a spec track generation (ConfigMaps, Secrets, Events... have none)."""
        return "spec" in obj

    def prepare_create(self, obj: dict[str, Any]) -> None:
        """Server-set fields of a new object; its name, uid and timestamps are already assigned."""
        return None

    def prepare_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """Main-resource updates only (subresources have their own rules)."""
        return None

    async def begin_create(self, obj: dict[str, Any], *, dry_run: bool) -> Reservation:
        return NOTHING_RESERVED

    async def begin_update(self, new: dict[str, Any], old: dict[str, Any], *, dry_run: bool) -> Reservation:
        return NOTHING_RESERVED

    async def after_delete(self, obj: dict[str, Any]) -> None:
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
    def tracks_generation(self, obj: dict[str, Any]) -> bool:
        return False  # pods gain metadata.generation only in Kubernetes 1.33

    def prepare_create(self, obj: dict[str, Any]) -> None:
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj)}

    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        # A pod no node runs, or that has finished, has nothing to wait for.
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        period = requested if requested is not None else int(spec.get("terminationGracePeriodSeconds", 30))
        return 1 if period < 0 else period  # upstream turns a negative period into the shortest one


class JobStrategy(Strategy):
    def prepare_create(self, obj: dict[str, Any]) -> None:
        generate_job_selector(obj)  # needs the uid, assigned just before


class PodDisruptionBudgetStrategy(Strategy):
    def prepare_create(self, obj: dict[str, Any]) -> None:
        # Only the disruption controller reports on a budget; its counters start at zero, as upstream's do.
        obj["status"] = {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}


class EventStrategy(Strategy):
    # Events are a record, not state: each expires an hour after its last write.
    ttl_seconds = 3600.0


_BY_RESOURCE: dict[tuple[str, str], Strategy] = {
    ("", "namespaces"): NamespaceStrategy(),
    ("", "pods"): PodStrategy(),
    ("", "events"): EventStrategy(),
    ("batch", "jobs"): JobStrategy(),
    ("policy", "poddisruptionbudgets"): PodDisruptionBudgetStrategy(),
    ("events.k8s.io", "events"): EventStrategy(),
}
_DEFAULT = Strategy()


def for_resource(group: str, plural: str) -> Strategy:
    return _BY_RESOURCE.get((group, plural), _DEFAULT)
