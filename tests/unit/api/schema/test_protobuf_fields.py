"""The protobuf field-number table keeps up with the schemas: every field of every kind has its number."""

from __future__ import annotations

from kubelite.api.schema import dsl, kinds
from kubelite.api.schema.protobuf_fields import core, described, groups, message_fields, meta

# Schema fields newer than any upstream generated.proto kubelite has seen: no wire number exists to record.
NOT_YET_ON_THE_WIRE = {
    ("io.k8s.api.core.v1.SecurityContext", "cgroupOptions"),
    ("io.k8s.api.core.v1.NodeSystemInfo", "runningInUserNamespace"),
}
_BY_HAND = {dsl.TIME, dsl.MICRO_TIME, dsl.QUANTITY, dsl.INT_OR_STRING}


def _numbered_names(definition: str) -> set[str]:
    """JSON names with a number in the definition's message, embedded structs' fields included."""
    fields = message_fields(definition)
    assert fields is not None, f"{definition} has no protobuf field numbers"
    names: set[str] = set()
    for field in fields.values():
        names |= _numbered_names(field.name) if field.embedded else {field.name}
    return names


def _referenced_structs(node: dsl.Node) -> list[dsl.Struct]:
    if isinstance(node, dsl.Array):
        return _referenced_structs(node.items)
    if isinstance(node, dsl.MapOf):
        return _referenced_structs(node.values)
    if isinstance(node, dsl.Ref) and node.target in _BY_HAND:
        return []
    resolved = node.resolved()
    return [resolved] if isinstance(resolved, dsl.Struct) else []


def test_every_field_reachable_from_a_kind_has_a_number() -> None:
    missing: list[str] = []
    seen: set[str] = set()
    pending = [dsl.definition(name) for _gvk, name in kinds()]
    while pending:
        struct = pending.pop()
        if not isinstance(struct, dsl.Struct) or struct.name in seen:
            continue
        seen.add(struct.name)
        numbered = _numbered_names(struct.name)
        for name, node in struct.fields.items():
            if name in ("apiVersion", "kind") and struct.gvks:
                continue  # a kind's typeMeta travels in the envelope
            if name in numbered:
                pending.extend(_referenced_structs(node))
            elif (struct.name, name) not in NOT_YET_ON_THE_WIRE:
                missing.append(f"{struct.name}.{name}")
    assert not missing, (
        "add these fields' numbers (from upstream's generated.proto) to kubelite/api/schema/protobuf_fields: "
        + ", ".join(sorted(missing))
    )


def test_entries_are_well_formed() -> None:
    for module in (meta, core, groups):
        for prefix, entries in module.PACKAGES.items():
            for name, spec in entries.items():
                pairs = [entry.split("=") for entry in spec.split()]
                numbers = [int(number.rstrip("?")) for _name, number in pairs]
                assert len(set(numbers)) == len(numbers), f"{prefix}{name} repeats a number"
                assert all(number > 0 for number in numbers)
                for field_name, _number in pairs:
                    if field_name.startswith("..."):
                        assert prefix + field_name[3:] in described(), f"{prefix}{name}: no {field_name[3:]}"
