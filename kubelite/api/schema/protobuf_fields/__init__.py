"""Protobuf field numbers of the API types: what kubelite needs to read Kubernetes' protobuf wire format.

Typed client-go clientsets (kubectl's `create namespace|configmap|deployment ...`) send request bodies as
protobuf. Each message mirrors its JSON type field for field; what the schemas (kubelite.api.schema) lack is
the field numbers, facts of upstream's wire format (k8s.io/api generated.proto) recorded here per definition:

    "DeploymentSpec": "replicas=1? selector=2 template=3 strategy=4 ..."

- `name=N`: the JSON field name and its number;
- a trailing `?`: a Go pointer scalar, whose zero value on the wire means something (`replicas: 0`), where a
  plain scalar is always sent and its zero value means "not set";
- `...Inner=N`: a Go embedded struct (`json:",inline"`), sent as message N of its own whose fields belong
  to the enclosing JSON object (Volume's VolumeSource, Probe's ProbeHandler); Inner has its own entry.

Upstream never reuses a number, so entries only grow. The special message types (Time, Quantity,
IntOrString, RawExtension, FieldsV1) are decoded by hand and have no entries.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from kubelite.api.schema.protobuf_fields import core, groups, meta


@dataclass(frozen=True, slots=True)
class WireField:
    """One field of a message: its JSON name, or for an embedded struct the definition listing its fields."""

    name: str
    embedded: bool = False
    presence: bool = False


_SPECS: dict[str, str] = {
    prefix + name: spec
    for module in (meta, core, groups)
    for prefix, entries in module.PACKAGES.items()
    for name, spec in entries.items()
}


@functools.cache
def message_fields(definition: str) -> Mapping[int, WireField] | None:
    """Field number → field of a definition's message, or None when the table does not describe it."""
    spec = _SPECS.get(definition)
    if spec is None:
        return None
    package = definition.rsplit(".", 1)[0] + "."
    fields: dict[int, WireField] = {}
    for entry in spec.split():
        name, number = entry.split("=")
        presence = number.endswith("?")
        if name.startswith("..."):
            field = WireField(package + name[3:], embedded=True)
        else:
            field = WireField(name, presence=presence)
        fields[int(number.rstrip("?"))] = field
    return fields


def described() -> frozenset[str]:
    """Every definition with an entry (embedded structs included)."""
    return frozenset(_SPECS)
