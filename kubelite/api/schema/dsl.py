"""A small DSL for API type schemas: one source for validation, OpenAPI and patch semantics.

A type reads like its Go struct: fields in upstream order under their JSON names, each a node built by a
constructor (`string`, `int32`, `array`, `ref`, ...) carrying a one-sentence description. Named types are
declared once with `Package.struct` and referenced everywhere else with `ref(...)` (or directly as array
items), which keeps shared and recursive types such as ObjectMeta or PodTemplateSpec single.

Every node implements kubelite.api.patch.meta.PatchSchema; `Ref` follows the registry lazily, so a module
may refer to a definition by name before the module declaring it has been imported.

How to add a kind (see defs/core_cluster.py for small complete examples):
1. In the group's module under kubelite/api/schema/defs/, make the package once:
   `apps = api_package("apps", "v1")` (definitions become io.k8s.api.apps.v1.<Name>).
2. Declare nested types with `apps.struct("DeploymentSpec", "One sentence.", replicas=int32("..."), ...)`,
   upstream JSON names and Go field order; `required=True` where upstream's OpenAPI lists the field as
   required; arrays carry `list_type`, `map_keys`, `merge_key` and `strategy` exactly as the Go markers say.
3. Declare the kind with `apps.kind("Deployment", "...", spec=ref(DeploymentSpec, "..."), status=...)`
   (apiVersion, kind and metadata are added) and its list with `apps.list_of(Deployment)`.
4. Describe the REST resource in kubelite/api/resources.py (defs/ imports every module in it by itself).
Structs that upstream marks +structType=atomic take `atomic=True`; a field whose JSON name is a Python
keyword (`continue`) goes in through `**{...}`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubelite.api.patch.meta import PatchSchema

GVK = tuple[str, str, str]

TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
MICRO_TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"

_DEFINITIONS: dict[str, Node] = {}
_KINDS: dict[GVK, str] = {}


class Node:
    """A schema node; as a PatchSchema it is a leaf unless a subclass says otherwise."""

    __slots__ = ("description", "required")

    def __init__(self, description: str = "", *, required: bool = False) -> None:
        self.description = description
        self.required = required

    def resolved(self) -> Node:
        """The node itself, or for a reference the definition it names."""
        return self

    def field(self, name: str) -> PatchSchema | None:
        return None

    @property
    def items(self) -> PatchSchema | None:
        return None

    @property
    def patch_merge_key(self) -> str | None:
        return None

    @property
    def patch_strategy(self) -> str:
        return ""

    @property
    def list_type(self) -> str:
        return ""

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        return ()

    @property
    def map_type(self) -> str:
        return ""


class Scalar(Node):
    """string / integer / number / boolean; `format` refines it (int32, date-time, byte, int-or-string...).
    `default` is upstream's +default marker: server-side apply keys list items whose key field is omitted
    with it (a port without protocol is the TCP port)."""

    __slots__ = ("default", "format", "type")

    def __init__(
        self,
        type_: str,
        format_: str = "",
        description: str = "",
        *,
        required: bool = False,
        default: str | int | bool | None = None,
    ):
        super().__init__(description, required=required)
        self.type = type_
        self.format = format_
        self.default = default


class Free(Node):
    """Any JSON value, kept as sent (RawExtension, FieldsV1)."""

    __slots__ = ()


class Array(Node):
    __slots__ = ("_items", "_list_type", "_map_keys", "_merge_key", "_strategy")

    def __init__(
        self,
        items: Node,
        description: str = "",
        *,
        required: bool = False,
        list_type: str = "",
        map_keys: tuple[str, ...] = (),
        merge_key: str | None = None,
        strategy: str = "",
    ) -> None:
        super().__init__(description, required=required)
        self._items = items
        self._list_type = list_type
        self._map_keys = map_keys
        self._merge_key = merge_key
        self._strategy = strategy

    @property
    def items(self) -> Node:
        return self._items

    @property
    def patch_merge_key(self) -> str | None:
        return self._merge_key

    @property
    def patch_strategy(self) -> str:
        return self._strategy

    @property
    def list_type(self) -> str:
        return self._list_type

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        return self._map_keys


class MapOf(Node):
    """A JSON object with arbitrary keys and values of one schema (labels, resource lists)."""

    __slots__ = ("_map_type", "values")

    def __init__(self, values: Node, description: str = "", *, required: bool = False, map_type: str = ""):
        super().__init__(description, required=required)
        self.values = values
        self._map_type = map_type

    def field(self, name: str) -> Node:
        return self.values

    @property
    def map_type(self) -> str:
        return self._map_type


class Struct(Node):
    """A named object type with a fixed set of fields; `gvks` is set on top-level kinds."""

    __slots__ = ("_map_type", "fields", "gvks", "name")

    def __init__(self, name: str, description: str, fields: dict[str, Node], *, map_type: str = ""):
        super().__init__(description)
        self.name = name
        self.fields = fields
        self.gvks: list[GVK] = []
        self._map_type = map_type

    def field(self, name: str) -> Node | None:
        return self.fields.get(name)

    @property
    def map_type(self) -> str:
        return self._map_type

    @property
    def required_fields(self) -> list[str]:
        return [name for name, node in self.fields.items() if node.required]


class Ref(Node):
    """A field whose type is a named definition; structure comes from the target, the rest from here."""

    __slots__ = ("_map_type", "_strategy", "target")

    def __init__(
        self,
        target: str,
        description: str = "",
        *,
        required: bool = False,
        strategy: str = "",
        map_type: str = "",
    ) -> None:
        super().__init__(description, required=required)
        self.target = target
        self._strategy = strategy
        self._map_type = map_type

    def resolved(self) -> Node:
        return definition(self.target)

    def field(self, name: str) -> PatchSchema | None:
        return self.resolved().field(name)

    @property
    def items(self) -> PatchSchema | None:
        return self.resolved().items

    @property
    def patch_strategy(self) -> str:
        return self._strategy

    @property
    def map_type(self) -> str:
        return self._map_type or self.resolved().map_type

    @property
    def own_map_type(self) -> str:
        """A map type set on this field, overriding its definition's (upstream's field-level +structType)."""
        return self._map_type


# ---- constructors: what definitions are written with ----


def string(description: str = "", *, required: bool = False, default: str | None = None) -> Scalar:
    return Scalar("string", "", description, required=required, default=default)


def byte_string(description: str = "", *, required: bool = False) -> Scalar:
    """Binary data, base64-encoded in JSON."""
    return Scalar("string", "byte", description, required=required)


def int32(description: str = "", *, required: bool = False) -> Scalar:
    return Scalar("integer", "int32", description, required=required)


def int64(description: str = "", *, required: bool = False) -> Scalar:
    return Scalar("integer", "int64", description, required=required)


def number(description: str = "", *, required: bool = False) -> Scalar:
    return Scalar("number", "double", description, required=required)


def boolean(description: str = "", *, required: bool = False) -> Scalar:
    return Scalar("boolean", "", description, required=required)


def quantity(description: str = "", *, required: bool = False) -> Ref:
    return Ref(QUANTITY, description, required=required)


def int_or_string(description: str = "", *, required: bool = False) -> Ref:
    return Ref(INT_OR_STRING, description, required=required)


def time(description: str = "", *, required: bool = False) -> Ref:
    return Ref(TIME, description, required=required)


def micro_time(description: str = "", *, required: bool = False) -> Ref:
    return Ref(MICRO_TIME, description, required=required)


def free(description: str = "", *, required: bool = False) -> Free:
    return Free(description, required=required)


def raw_extension(description: str = "", *, required: bool = False) -> Ref:
    return Ref(RAW_EXTENSION, description, required=required)


def ref(
    target: Struct | str,
    description: str = "",
    *,
    required: bool = False,
    strategy: str = "",
    map_type: str = "",
) -> Ref:
    name = target.name if isinstance(target, Struct) else target
    return Ref(name, description, required=required, strategy=strategy, map_type=map_type)


def array(
    items: Node,
    description: str = "",
    *,
    required: bool = False,
    list_type: str = "",
    map_keys: tuple[str, ...] = (),
    merge_key: str | None = None,
    strategy: str = "",
) -> Array:
    """A list; a Struct as `items` means a reference to that definition."""
    if isinstance(items, Struct):
        items = Ref(items.name)
    return Array(
        items,
        description,
        required=required,
        list_type=list_type,
        map_keys=map_keys,
        merge_key=merge_key,
        strategy=strategy,
    )


def map_of(values: Node, description: str = "", *, required: bool = False, map_type: str = "") -> MapOf:
    if isinstance(values, Struct):
        values = Ref(values.name)
    return MapOf(values, description, required=required, map_type=map_type)


# ---- the registries ----


def define(name: str, node: Node) -> Node:
    """Register a named definition (structs do this themselves)."""
    if name in _DEFINITIONS:
        raise ValueError(f"definition {name} declared twice")
    _DEFINITIONS[name] = node
    return node


def register_kind(group: str, version: str, kind: str, definition_: Struct) -> None:
    gvk = (group, version, kind)
    if gvk in _KINDS:
        raise ValueError(f"kind {gvk} declared twice")
    _KINDS[gvk] = definition_.name
    definition_.gvks.append(gvk)


def definition(name: str) -> Node:
    try:
        return _DEFINITIONS[name]
    except KeyError:
        raise KeyError(f"no schema definition named {name}") from None


def definitions() -> Iterator[tuple[str, Node]]:
    return iter(_DEFINITIONS.items())


def kind_schema(group: str, version: str, kind: str) -> Struct | None:
    """The top-level schema of a kind, or None when kubelite has no schema for it."""
    name = _KINDS.get((group, version, kind))
    node = _DEFINITIONS[name] if name else None
    return node if isinstance(node, Struct) else None


def kinds() -> Iterator[tuple[GVK, str]]:
    return iter(_KINDS.items())


class Package:
    """Declares the definitions of one Go package, e.g. io.k8s.api.core.v1, and the kinds of its API group."""

    def __init__(self, prefix: str, group: str = "", version: str = "") -> None:
        self.prefix = prefix
        self.group = group
        self.version = version

    def struct(self, name: str, description: str, /, *, atomic: bool = False, **fields: Node) -> Struct:
        """A named object type; `atomic` is upstream's +structType=atomic (replaced whole by apply)."""
        node = Struct(self.prefix + name, description, fields, map_type="atomic" if atomic else "")
        define(node.name, node)
        return node

    def kind(self, kind: str, description: str, /, **fields: Node) -> Struct:
        """A top-level kind: apiVersion, kind and metadata come first (`fields` may redeclare them)."""
        standard: dict[str, Node] = dict(
            apiVersion=string("Versioned schema of this object, such as apps/v1; the server fills it in."),
            kind=string("The REST kind of this object, in CamelCase; the server fills it in."),
            metadata=ref(OBJECT_META, "Standard object metadata: name, namespace, labels and so on."),
        )
        merged: dict[str, Any] = standard | fields  # Any: mypy cannot tell these names from `atomic`
        node = self.struct(kind, description, **merged)
        register_kind(self.group, self.version, kind, node)
        return node

    def list_of(self, item: Struct, description: str = "", /) -> Struct:
        """The `<Kind>List` of a kind, as returned by list calls."""
        kind = item.name.rsplit(".", 1)[1]
        node = self.struct(
            kind + "List",
            description or f"A list of {kind} objects.",
            apiVersion=string("Versioned schema of this list."),
            items=array(item, f"The {kind} objects.", required=True),
            kind=string("The REST kind of this list."),
            metadata=ref(LIST_META, "Standard list metadata: resourceVersion and continue token."),
        )
        register_kind(self.group, self.version, kind + "List", node)
        return node


def api_package(group: str, version: str) -> Package:
    """The package of an API group version: io.k8s.api.<first label of the group, or core>.<version>."""
    short = group.split(".", 1)[0] if group else "core"
    return Package(f"io.k8s.api.{short}.{version}.", group, version)


# Named scalars shared by every group, declared here so the constructors above always resolve.
define(TIME, Scalar("string", "date-time", "A timestamp in RFC 3339 form, with second precision."))
define(MICRO_TIME, Scalar("string", "date-time", "A timestamp in RFC 3339 form, with microsecond precision."))
define(
    QUANTITY,
    Scalar("string", "quantity", "A fixed-point number with an optional suffix, such as 100m or 2Gi."),
)
define(
    INT_OR_STRING, Scalar("string", "int-or-string", "Either an integer or a string, such as 8080 or http.")
)
define(RAW_EXTENSION, Free("An embedded object of any kind, kept as sent."))
