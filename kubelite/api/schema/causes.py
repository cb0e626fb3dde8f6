"""What validation reports: one Cause per problem, worded as upstream words it.

Causes split in two families, because the API server treats them differently:
- strict-decoding causes (unknown and duplicate fields) depend on the request's fieldValidation: Strict makes
  them a 400 BadRequest ("strict decoding error: unknown field ..."), Warn turns them into Warning headers,
  Ignore drops them;
- the others make the object invalid (422, reason Invalid), each as a StatusCause of the Status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# metav1.CauseType values (StatusCause.reason).
FIELD_VALUE_INVALID = "FieldValueInvalid"
FIELD_VALUE_TYPE_INVALID = "FieldValueTypeInvalid"
FIELD_VALUE_REQUIRED = "FieldValueRequired"
# Strict-decoding problems; upstream reports them only in the message, never as StatusCauses.
UNKNOWN_FIELD = "UnknownField"
DUPLICATE_FIELD = "DuplicateField"

_STRICT = frozenset({UNKNOWN_FIELD, DUPLICATE_FIELD})


@dataclass(frozen=True, slots=True)
class Cause:
    reason: str
    field: str
    message: str

    @property
    def strict(self) -> bool:
        """True for unknown/duplicate fields, whose handling depends on fieldValidation."""
        return self.reason in _STRICT

    def __str__(self) -> str:
        # Upstream: `unknown field "spec.x"` alone, but `spec.replicas: Invalid value: ...` for the others.
        return self.message if self.strict or not self.field else f"{self.field}: {self.message}"

    def status_cause(self) -> dict[str, str]:
        """This cause as a StatusCause of a Status body's details.causes."""
        return {"reason": self.reason, "message": self.message, "field": self.field}


def json_type(value: Any) -> str:
    """The JSON schema type name of a decoded value, as upstream names it in type errors."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def type_invalid(path: str, expected: str, value: Any) -> Cause:
    actual = json_type(value)
    message = f'Invalid value: "{actual}": {path or "body"} in body must be of type {expected}: "{actual}"'
    return Cause(FIELD_VALUE_TYPE_INVALID, path, message)


def invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause(FIELD_VALUE_INVALID, path, f"Invalid value: {json.dumps(value)}: {detail}")


def required(path: str) -> Cause:
    return Cause(FIELD_VALUE_REQUIRED, path, "Required value")


def unknown_field(path: str) -> Cause:
    return Cause(UNKNOWN_FIELD, path, f'unknown field "{path}"')


def duplicate_field(path: str) -> Cause:
    return Cause(DUPLICATE_FIELD, path, f'duplicate field "{path}"')


def join(path: str, name: str) -> str:
    """Field path of `name` inside the object at `path` (spec + replicas = spec.replicas)."""
    return f"{path}.{name}" if path else name
