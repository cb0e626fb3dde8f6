"""The errors every API call can raise, mapped once from the server's metav1.Status body.

Callers catch by meaning (`NotFound`, `Conflict`, `Expired`, ...) instead of comparing codes; the Status's
reason, message and causes stay on the exception so controllers can record or report them. Failures to reach
the server at all are `TransportError`, kept apart because nothing is known about what the server did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ClientError(Exception):
    """Anything a kubelite.client call raises on purpose."""


class TransportError(ClientError):
    """The server could not be reached, the connection broke, or the answer was not the API's JSON (the
    cause is chained)."""


@dataclass(frozen=True, slots=True)
class Cause:
    """One entry of `details.causes`: what is wrong with which field."""

    reason: str
    message: str
    field: str = ""


class ApiError(ClientError):
    """The server answered with a failure Status."""

    def __init__(self, code: int, reason: str, message: str, status: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.status: dict[str, Any] = status or {}

    @property
    def details(self) -> dict[str, Any]:
        details = self.status.get("details")
        return details if isinstance(details, dict) else {}

    @property
    def causes(self) -> list[Cause]:
        return [
            Cause(str(c.get("reason", "")), str(c.get("message", "")), str(c.get("field", "")))
            for c in self.details.get("causes") or []
            if isinstance(c, dict)
        ]

    @property
    def retry_after(self) -> float | None:
        seconds = self.details.get("retryAfterSeconds")
        return float(seconds) if isinstance(seconds, int | float) else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.reason!r}, {self.message!r})"


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class MethodNotAllowed(ApiError):
    pass


class Conflict(ApiError):
    """A write lost an optimistic-concurrency race (stale resourceVersion, failed precondition, apply
    conflict): re-read and try again."""


class AlreadyExists(Conflict):
    """Create of a name that exists (409 too, but nothing to retry)."""


class Gone(ApiError):
    pass


class Expired(Gone):
    """The resourceVersion or continue token is older than the server's history: list again."""


class Invalid(ApiError):
    """422: the object fails validation; `causes` says which fields."""


class TooManyRequests(ApiError):
    pass


class ServerError(ApiError):
    """5xx: the server failed (InternalError, ServiceUnavailable, Timeout)."""


_BY_REASON: dict[str, type[ApiError]] = {
    "AlreadyExists": AlreadyExists,
    "Conflict": Conflict,
    "Expired": Expired,
    "Gone": Gone,
    "Invalid": Invalid,
    "NotFound": NotFound,
    "Forbidden": Forbidden,
    "Unauthorized": Unauthorized,
    "BadRequest": BadRequest,
    "MethodNotAllowed": MethodNotAllowed,
    "TooManyRequests": TooManyRequests,
}
_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}
_REASON_OF_CLASS = {cls: name for name, cls in _BY_REASON.items()}
_SERVER_REASONS = {503: "ServiceUnavailable", 504: "Timeout"}


def from_status(code: int, status: Any) -> ApiError:
    """The exception for an HTTP failure `code` whose body decoded to `status` (anything, ideally a Status).

    The reason picks the class when the server gave one it knows (410 Expired vs. Gone, 409 AlreadyExists vs.
    Conflict); otherwise the code does."""
    body: dict[str, Any] = status if isinstance(status, dict) and status.get("kind") == "Status" else {}
    code = int(body.get("code") or code)
    reason = str(body.get("reason") or "")
    message = str(body.get("message") or f"the server responded with HTTP {code}")
    cls = _BY_REASON.get(reason) or _BY_CODE.get(code) or (ServerError if code >= 500 else ApiError)
    if not reason:
        fallback = "InternalError" if code >= 500 else "Unknown"
        reason = _REASON_OF_CLASS.get(cls) or _SERVER_REASONS.get(code, fallback)
    return cls(code, reason, message, body)
