"""Structural validation of stored objects through the shared type schemas (kubelite.api.schema).

Unknown and duplicate fields are "strict" problems: fieldValidation=Strict (what kubectl sends) makes them a
400, Warn and Ignore let them pass. Every other problem makes the object Invalid (422). Kinds the schemas do
not describe (yet) are stored as they come.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.schema import kind_schema
from kubelite.api.schema import validate as schema_validate
from kubelite.apiserver.errors import Cause
from kubelite.apiserver.resource import ApiResource

STRICT_REASONS = frozenset({"UnknownField", "DuplicateField"})
FIELD_VALIDATION = ("Strict", "Warn", "Ignore")


def validate(resource: ApiResource, obj: dict[str, Any], old: dict[str, Any] | None) -> list[Cause]:
    if kind_schema(resource.group, resource.version, resource.kind) is None:
        return []
    found = schema_validate.validate(obj, resource.group, resource.version, resource.kind)
    return [Cause(c.reason, c.message, c.field) for c in found]
