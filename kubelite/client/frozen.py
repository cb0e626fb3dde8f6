"""Read-only JSON objects, so an informer's cache can be shared without copying.

Many controllers read the same cached objects; one that changed its copy in place would silently corrupt what
every other controller sees. So the cache stores objects frozen once, on arrival: mappings refuse changes and
lists refuse changes too. Reading is free; changing an object means `thaw()`-ing a private, mutable copy first
(`copy.deepcopy` does the same). They subclass dict and list, so orjson encodes them and `==` compares them
with plain JSON as usual.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn


def _refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError("cached objects are read-only: change a thaw()-ed copy")


class FrozenDict(dict[str, Any]):
    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {k: thaw(v) for k, v in self.items()}


class FrozenList(list[Any]):
    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [thaw(v) for v in self]


# Decoded JSON is almost all plain dicts, lists and scalars: exact type checks first, as an informer freezes
# every object it receives, and isinstance against the Mapping ABC is slow.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def freeze(value: Any) -> Any:
    """A read-only deep copy of a decoded JSON value."""
    kind = type(value)
    if kind is dict:
        return _freeze_dict(value)
    if kind is list:
        return _freeze_list(value)
    if kind in _SCALARS or isinstance(value, FrozenDict | FrozenList):
        return value
    if isinstance(value, Mapping):
        return FrozenDict({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList(freeze(v) for v in value)
    return value


# The two below run for every object an informer receives: scalars are kept without a call, nested plain
# dicts and lists recurse directly.


def _freeze_dict(value: dict[Any, Any]) -> FrozenDict:
    out = {}
    for key, item in value.items():
        if type(key) is not str:
            key = str(key)
        kind = type(item)
        if kind is dict:
            item = _freeze_dict(item)
        elif kind is list:
            item = _freeze_list(item)
        elif kind not in _SCALARS:
            item = freeze(item)
        out[key] = item
    return FrozenDict(out)


def _freeze_list(value: list[Any]) -> FrozenList:
    out = []
    for item in value:
        kind = type(item)
        if kind is dict:
            item = _freeze_dict(item)
        elif kind is list:
            item = _freeze_list(item)
        elif kind not in _SCALARS:
            item = freeze(item)
        out.append(item)
    return FrozenList(out)


def thaw(value: Any) -> Any:
    """A mutable deep copy (dicts and lists) of a frozen or plain JSON value."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):  # FrozenDict too, without the Mapping ABC's slower check
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value
