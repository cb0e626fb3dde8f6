"""metadata.managedFields on every client write, and server-side apply.

Each create, update and patch records what its field manager (`?fieldManager=`, else the User-Agent's
product) now owns; `application/apply-patch+yaml` merges the applied configuration with ownership checks and
creates the object when it does not exist. The rules themselves live in kubelite.api.patch.fieldmanager.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubelite.api.patch import fieldmanager
from kubelite.api.patch.apply import APPLY, UPDATE
from kubelite.api.patch.errors import PatchError
from kubelite.api.schema import kind_schema
from kubelite.apiserver import errors
from kubelite.apiserver.resource import ApiResource

# (old object or None on create, new object) -> the object to store, managedFields updated.
Manage = Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class FieldManager:
    resource: ApiResource
    manager: str
    subresource: str = ""
    force: bool = False

    @classmethod
    def from_request(
        cls, resource: ApiResource, query: dict[str, str], user_agent: str, *, subresource: str = ""
    ) -> FieldManager:
        manager = query.get("fieldManager") or fieldmanager.default_field_manager(user_agent)
        if len(manager.encode()) > 128:
            raise errors.bad_request("fieldManager: Too long: may not be more than 128 bytes")
        force = query.get("force", "").lower() in ("1", "true")
        return cls(resource, manager, subresource, force)

    def _reset_fields(self) -> tuple[tuple[str, ...], ...]:
        """Fields this write path can never own: status from the main resource, spec from /status."""
        if not self.resource.has_status:
            return ()
        return (("spec",),) if self.subresource == "status" else (("status",),)

    def _write(self, old: dict[str, Any] | None, new: dict[str, Any], operation: str) -> dict[str, Any]:
        res = self.resource
        try:
            return fieldmanager.manage_write(
                old,
                new,
                manager=self.manager,
                operation=operation,
                schema=kind_schema(res.group, res.version, res.kind),
                api_version=res.group_version,
                kind=res.kind,
                force=self.force,
                subresource=self.subresource,
                reset_fields=self._reset_fields(),
            )
        except PatchError as exc:
            raise from_patch_error(exc) from exc

    def update(self, old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        """An ordinary write (create, update, non-apply patch) takes the fields it changed."""
        return self._write(old, new, UPDATE)

    def apply(self, old: dict[str, Any] | None, config: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply of `config` onto `old` (None: the object does not exist yet)."""
        if not self.manager:
            raise errors.bad_request("PATCH with an apply patch requires a fieldManager")
        return self._write(old, config, APPLY)


def from_patch_error(exc: PatchError) -> errors.ApiError:
    """Patch and apply failures: 400 malformed, 409 apply conflicts (with causes), else 422."""
    if exc.code == 400:
        return errors.bad_request(exc.message)
    if exc.code == 409:
        causes = list(getattr(exc, "causes", []))
        return errors.ApiError(409, "Conflict", exc.message, {"causes": causes} if causes else {})
    return errors.ApiError(exc.code, "Invalid", exc.message)
