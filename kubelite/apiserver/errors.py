"""API errors and their metav1.Status bodies, worded as upstream words them.

kubectl prints `Error from server (<reason>): <message>` straight from these bodies, so reasons, codes and
messages follow the Kubernetes API server exactly. Store errors become API errors here and nowhere else
(`from_store_error`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubelite.store import AlreadyExists, Conflict, Expired, FutureRevision, NotFound, StoreError, WatchCutOff


@dataclass(frozen=True, slots=True)
class Resource:
    """What an error message names: the group, the plural resource and the kind."""

    group: str
    resource: str
    kind: str = ""

    @property
    def qualified(self) -> str:  # "pods", "deployments.apps"
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def qualified_kind(self) -> str:  # "Pod", "Deployment.apps"
        return f"{self.kind}.{self.group}" if self.group else self.kind


@dataclass(frozen=True, slots=True)
class Cause:
    reason: str  # FieldValueRequired, FieldValueInvalid, ...
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


@dataclass(eq=False)
class ApiError(Exception):
    code: int
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(res: Resource | None, name: str, *, kind: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if name:
        out["name"] = name
    if res is not None:
        if res.group:
            out["group"] = res.group
        out["kind"] = kind or res.resource
    return out


def not_found(res: Resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{res.qualified} "{name}" not found', _details(res, name))


def already_exists(res: Resource, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{res.qualified} "{name}" already exists', _details(res, name))


def conflict(res: Resource, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {res.qualified} "{name}": {why}',
        _details(res, name),
    )


MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def forbidden(res: Resource, name: str, why: str, *, causes: list[Cause] | None = None) -> ApiError:
    subject = f'{res.qualified} "{name}"' if name else res.qualified
    details = _details(res, name)
    if causes:
        details["causes"] = [c.to_dict() for c in causes]
    return ApiError(403, "Forbidden", f"{subject} is forbidden: {why}", details)


def invalid(res: Resource, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid: `Pod "x" is invalid: spec.containers[0].image: Required value` (several → `[a, b]`)."""
    rendered = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    details = _details(res, name, kind=res.kind)
    details["causes"] = [c.to_dict() for c in causes]
    return ApiError(422, "Invalid", f'{res.qualified_kind} "{name}" is invalid: {summary}', details)


def field_error(
    kind: str, field_path: str, detail: str, value: Any = None, *, has_value: bool = True
) -> Cause:
    """One field error, rendered like upstream's field.Error (`Invalid value: "x": why`)."""
    reasons = {
        "Required": ("FieldValueRequired", "Required value"),
        "Invalid": ("FieldValueInvalid", "Invalid value"),
        "Forbidden": ("FieldValueForbidden", "Forbidden"),
        "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
        "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
        "TooLong": ("FieldValueTooLong", "Too long"),
    }
    reason, label = reasons[kind]
    message = label
    if has_value and kind in ("Invalid", "NotSupported", "Duplicate"):
        message += f": {_go_quote(value)}"
    if detail:
        message += f": {detail}"
    return Cause(reason, message, field_path)


def _go_quote(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def path_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def not_acceptable(accepted: str) -> ApiError:
    return ApiError(406, "NotAcceptable", f"only the following media types are accepted: {accepted}")


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
        {"causes": [{"reason": "UnexpectedServerResponse", "message": content_type}]} if content_type else {},
    )


def too_large(limit: int) -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_large_resource_version(requested: int, current: int) -> ApiError:
    return ApiError(
        504,
        "Timeout",
        f"Timeout: Too large resource version: {requested}, current: {current}",
        {
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": 1,
        },
    )


def internal(message: str) -> ApiError:
    return ApiError(
        500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]}
    )


def service_unavailable(message: str) -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def from_store_error(exc: StoreError, res: Resource, name: str, *, requested_revision: int = 0) -> ApiError:
    """The single mapping of store errors to HTTP Status (see kubelite/store/base.py for their meaning)."""
    if isinstance(exc, NotFound):
        return not_found(res, name)
    if isinstance(exc, AlreadyExists):
        return already_exists(res, name)
    if isinstance(exc, Conflict):
        return conflict(res, name, MODIFIED)
    if isinstance(exc, Expired):
        return expired(f"too old resource version: {requested_revision} ({exc.compact_revision})")
    if isinstance(exc, FutureRevision):
        return too_large_resource_version(requested_revision, exc.current_revision)
    if isinstance(exc, WatchCutOff):
        return ApiError(
            500, "InternalError", "watch cut off: the client fell behind; re-list and watch again"
        )
    return service_unavailable(f"storage is unavailable: {exc}")
