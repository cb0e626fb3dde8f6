"""The metadata the server owns: names, uid, timestamps, generation, finalizers.

Clients never set uid, creationTimestamp, deletionTimestamp or generation; the server fills them on create,
carries them over on update and validates what clients may set (names, labels, finalizer rules), with
upstream's field paths and wording.
"""

from __future__ import annotations

import datetime
import re
import secrets
import uuid
from typing import Any

from kubelite.apiserver import errors
from kubelite.apiserver.errors import Cause, field_error

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
# Resources whose names must be DNS-1123 labels (they become DNS names or hostnames). These checks serve
# kinds kubelite.api.validation does not cover; it checks Services itself, as DNS-1035 labels.
LABEL_NAMED = {("", "namespaces")}
# Resources whose names only need to be valid path segments.
PATH_SEGMENT_NAMED = {
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
}


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_name(prefix: str) -> str:
    # Upstream trims the prefix so the result stays within 63 characters.
    return prefix[:58] + "".join(secrets.choice(_GENERATE_ALPHABET) for _ in range(5))


def new_uid() -> str:
    return str(uuid.uuid4())


def name_causes(group: str, resource: str, name: str, *, path: str = "metadata.name") -> list[Cause]:
    if (group, resource) in PATH_SEGMENT_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            return [field_error("Invalid", path, "may not be '.', '..', or contain '/' or '%'", name)]
        return []
    if (group, resource) in LABEL_NAMED:
        problems = []
        if len(name) > 63:
            problems.append("must be no more than 63 characters")
        if not _LABEL.match(name):
            problems.append(_LABEL_MSG)
    else:
        problems = []
        if len(name) > 253:
            problems.append("must be no more than 253 characters")
        if not _SUBDOMAIN.match(name):
            problems.append(_SUBDOMAIN_MSG)
    return [field_error("Invalid", path, p, name) for p in problems]


def _qualified_key_problems(key: str) -> list[str]:
    prefix, slash, name = key.rpartition("/")
    problems = []
    if slash:
        if not prefix:
            problems.append("prefix part must be non-empty")
        elif len(prefix) > 253 or not _SUBDOMAIN.match(prefix):
            problems.append("prefix part " + _SUBDOMAIN_MSG)
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        problems.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
            "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
            "regex used for validation "
            "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        )
    return problems


def metadata_causes(meta: dict[str, Any], *, group: str, resource: str, namespaced: bool) -> list[Cause]:
    """Client-settable metadata that is malformed (labels, annotations, names, namespace)."""
    causes: list[Cause] = []
    name = meta.get("name")
    if not isinstance(name, str):
        causes.append(field_error("Invalid", "metadata.name", "must be a string", name))
    elif name:
        causes += name_causes(group, resource, name)
    generate = meta.get("generateName")
    if generate is not None and not isinstance(generate, str):
        causes.append(field_error("Invalid", "metadata.generateName", "must be a string", generate))
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        causes.append(field_error("Invalid", "metadata.labels", "must be an object", labels))
    else:
        for key, value in labels.items():
            for problem in _qualified_key_problems(key):
                causes.append(field_error("Invalid", "metadata.labels", problem, key))
            if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
                causes.append(
                    field_error(
                        "Invalid",
                        "metadata.labels",
                        "a valid label must be an empty string or consist of alphanumeric "
                        "characters, '-', '_' "
                        "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
                        "'my_value',  or '12345', regex used for validation is "
                        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                        value,
                    )
                )
    annotations = meta.get("annotations") or {}
    if not isinstance(annotations, dict):
        causes.append(field_error("Invalid", "metadata.annotations", "must be an object", annotations))
    else:
        for key, value in annotations.items():
            for problem in _qualified_key_problems(key):
                causes.append(field_error("Invalid", "metadata.annotations", problem, key))
            if not isinstance(value, str):
                causes.append(
                    field_error("Invalid", f"metadata.annotations[{key}]", "must be a string", value)
                )
        if sum(len(k) + len(str(v)) for k, v in annotations.items()) > 256 * 1024:
            causes.append(field_error("TooLong", "metadata.annotations", "may not be more than 262144 bytes"))
    finalizers = meta.get("finalizers") or []
    if not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers):
        causes.append(field_error("Invalid", "metadata.finalizers", "must be a list of strings", finalizers))
    if not namespaced and meta.get("namespace"):
        causes.append(
            field_error("Forbidden", "metadata.namespace", "not allowed on this type", has_value=False)
        )
    return causes


def prepare_create(obj: dict[str, Any], *, generation: bool) -> None:
    """Fill the server-owned fields of a new object (its name is already decided); `generation`: whether
    its kind tracks metadata.generation."""
    meta = obj["metadata"]
    meta["uid"] = new_uid()
    meta["creationTimestamp"] = now_rfc3339()
    for owned in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
        meta.pop(owned, None)
    if generation:
        meta["generation"] = 1
    else:
        meta.pop("generation", None)
    if not meta.get("generateName"):
        meta.pop("generateName", None)


def carry_over_system_fields(new: dict[str, Any], old: dict[str, Any]) -> None:
    """On update, the server-owned metadata stays what it was."""
    meta, old_meta = new["metadata"], old["metadata"]
    for owned in (
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ):
        if owned in old_meta:
            meta[owned] = old_meta[owned]
        else:
            meta.pop(owned, None)
    meta.pop("selfLink", None)


def bump_generation(
    new: dict[str, Any], old: dict[str, Any], *, ignore: tuple[str, ...], tracked: bool
) -> None:
    """generation + 1 when anything but metadata and the `ignore`d top-level fields changed; `tracked`:
    whether the kind has a generation at all."""
    if not tracked:
        return
    if "generation" not in new["metadata"]:
        new["metadata"]["generation"] = 1
        return
    skip = {"metadata", "kind", "apiVersion", *ignore}
    if {k: v for k, v in new.items() if k not in skip} != {k: v for k, v in old.items() if k not in skip}:
        new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1


def finalizer_causes(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    """An object being deleted may drop finalizers but never gain new ones."""
    if not old["metadata"].get("deletionTimestamp"):
        return []
    added = [
        f
        for f in new["metadata"].get("finalizers") or []
        if f not in (old["metadata"].get("finalizers") or [])
    ]
    if not added:
        return []
    listed = ", ".join(f'"{f}"' for f in added)
    return [
        field_error(
            "Forbidden",
            "metadata.finalizers",
            "no new finalizers can be added if the object is being deleted, "
            f"found new finalizers []string{{{listed}}}",
            has_value=False,
        )
    ]


def require_name(res: errors.Resource, meta: dict[str, Any]) -> None:
    if not meta.get("name") and not meta.get("generateName"):
        raise errors.invalid(
            res,
            "",
            [field_error("Required", "metadata.name", "name or generateName is required", has_value=False)],
        )
