"""ObjectMeta, labels, annotations and label selectors: the checks every kind shares.

Create validation checks names (each kind has its rule: DNS subdomain, DNS label, DNS-1035 label),
namespace presence, labels, annotation size, owner references and finalizer names; update validation checks
what may not change (name, namespace, uid, timestamps) and the same formats on the new metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.api import selectors
from kubelite.api.schema.causes import Cause
from kubelite.api.validation import errors as e
from kubelite.api.validation import names
from kubelite.api.validation.names import NameRule

ANNOTATIONS_LIMIT = 256 * 1024
# Finalizer names upstream accepts without a domain prefix.
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


def labels(values: Mapping[str, Any] | None, path: str) -> list[Cause]:
    """ValidateLabels: every key a qualified name, every value a label value; errors on the map's path."""
    found: list[Cause] = []
    for label, value in (values or {}).items():
        found += label_key(label, path)
        found += [e.invalid(path, value, msg) for msg in names.is_label_value(str(value))]
    return found


def label_key(label: str, path: str) -> list[Cause]:
    return [e.invalid(path, label, msg) for msg in names.is_qualified_name(label)]


def qualified_name(value: str, path: str) -> list[Cause]:
    return [e.invalid(path, value, msg) for msg in names.is_qualified_name(value)]


def dns_label(value: str, path: str) -> list[Cause]:
    return [e.invalid(path, value, msg) for msg in names.is_dns1123_label(value)]


def dns_subdomain(value: str, path: str) -> list[Cause]:
    return [e.invalid(path, value, msg) for msg in names.is_dns1123_subdomain(value)]


def annotation_map(values: Mapping[str, Any] | None, path: str) -> list[Cause]:
    found: list[Cause] = []
    total = 0
    for name, value in (values or {}).items():
        # Annotation keys are qualified names, case-insensitively.
        found += [e.invalid(path, name, msg) for msg in names.is_qualified_name(name.lower())]
        total += len(name.encode()) + len(str(value).encode())
    if total > ANNOTATIONS_LIMIT:
        found.append(e.too_long(path, ANNOTATIONS_LIMIT))
    return found


def _owner_references(refs: list[dict[str, Any]], path: str) -> list[Cause]:
    found: list[Cause] = []
    controller = ""
    for ref in refs:
        api_version = ref.get("apiVersion") or ""
        if not api_version.rpartition("/")[2]:
            found.append(e.invalid(e.child(path, "apiVersion"), api_version, "version must not be empty"))
        for field in ("kind", "name", "uid"):
            if not ref.get(field):
                found.append(e.invalid(e.child(path, field), ref.get(field) or "", "must not be empty"))
        if api_version == "v1" and ref.get("kind") == "Event":
            found.append(e.invalid(path, ref, "/v1, Kind=Event is disallowed from being an owner"))
        if ref.get("controller"):
            current = f"{ref.get('kind')}/{ref.get('name')}"
            if controller:
                detail = (
                    'Only one reference can have Controller set to true. Found "true" in references for '
                    f"{controller} and {current}"
                )
                found.append(e.invalid(path, refs, detail))
            else:
                controller = current
    return found


def _finalizers(finalizers: list[str], path: str) -> list[Cause]:
    found: list[Cause] = []
    for finalizer in finalizers:
        found += qualified_name(finalizer, path)
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        detail = "finalizer orphan and foregroundDeletion cannot be both set"
        found.append(e.invalid(path, e.go_strings(finalizers), detail))
    for i, finalizer in enumerate(finalizers):
        found += kube_finalizer_name(finalizer, e.index(path, i))
    return found


def kube_finalizer_name(finalizer: str, path: str) -> list[Cause]:
    """Finalizers without a domain prefix must be one of the standard ones."""
    if "/" in finalizer or finalizer in STANDARD_FINALIZERS:
        return []
    return [e.invalid(path, finalizer, "name is neither a standard finalizer name nor is it fully qualified")]


def _common(meta: Mapping[str, Any], path: str) -> list[Cause]:
    found = e.non_negative(e.child(path, "generation"), meta.get("generation"))
    found += labels(meta.get("labels"), e.child(path, "labels"))
    found += annotation_map(meta.get("annotations"), e.child(path, "annotations"))
    found += _owner_references(meta.get("ownerReferences") or [], e.child(path, "ownerReferences"))
    found += _finalizers(meta.get("finalizers") or [], e.child(path, "finalizers"))
    return found


def object_meta(
    meta: Mapping[str, Any], *, namespaced: bool, name_rule: NameRule, path: str = "metadata"
) -> list[Cause]:
    """ValidateObjectMeta: the metadata of a new object (its name already generated, if asked for)."""
    found: list[Cause] = []
    generate = meta.get("generateName") or ""
    if generate:
        found += [e.invalid(e.child(path, "generateName"), generate, m) for m in name_rule(generate, True)]
    name = meta.get("name") or ""
    if not name:
        found.append(e.required(e.child(path, "name"), "name or generateName is required"))
    else:
        found += [e.invalid(e.child(path, "name"), name, msg) for msg in name_rule(name, False)]
    namespace = meta.get("namespace") or ""
    if namespaced:
        if not namespace:
            found.append(e.required(e.child(path, "namespace")))
        else:
            found += [
                e.invalid(e.child(path, "namespace"), namespace, m) for m in names.is_dns1123_label(namespace)
            ]
    elif namespace:
        found.append(e.forbidden(e.child(path, "namespace"), "not allowed on this type"))
    return found + _common(meta, path)


_IMMUTABLE_META = (
    "name",
    "namespace",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


def object_meta_update(new: Mapping[str, Any], old: Mapping[str, Any], path: str = "metadata") -> list[Cause]:
    """ValidateObjectMetaUpdate: identity and timestamps stay, formats still hold."""
    found: list[Cause] = []
    if old.get("deletionTimestamp"):
        added = sorted(set(new.get("finalizers") or []) - set(old.get("finalizers") or []))
        if added:
            detail = "no new finalizers can be added if the object is being deleted, found new finalizers "
            detail += e.go_strings(added).text
            found.append(e.forbidden(e.child(path, "finalizers"), detail))
    if not new.get("resourceVersion"):
        found.append(e.invalid(e.child(path, "resourceVersion"), "", "must be specified for an update"))
    if (new.get("generation") or 0) < (old.get("generation") or 0):
        found.append(
            e.invalid(e.child(path, "generation"), new.get("generation") or 0, "must not be decremented")
        )
    for field in _IMMUTABLE_META:
        found += e.immutable(e.child(path, field), new.get(field) or "", old.get(field) or "")
    return found + _common(new, path)


def template_meta(meta: Mapping[str, Any] | None, path: str) -> list[Cause]:
    """The metadata of an embedded template: labels and annotations only."""
    meta = meta or {}
    return labels(meta.get("labels"), e.child(path, "labels")) + annotation_map(
        meta.get("annotations"), e.child(path, "annotations")
    )


def label_selector(selector: Mapping[str, Any] | None, path: str) -> list[Cause]:
    """ValidateLabelSelector (strict: invalid label values are refused)."""
    if selector is None:
        return []
    found = labels(selector.get("matchLabels"), e.child(path, "matchLabels"))
    for i, expression in enumerate(selector.get("matchExpressions") or []):
        where = e.index(e.child(path, "matchExpressions"), i)
        operator = expression.get("operator") or ""
        values = expression.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                detail = "must be specified when `operator` is 'In' or 'NotIn'"
                found.append(e.required(e.child(where, "values"), detail))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                found.append(e.forbidden(e.child(where, "values"), detail))
        else:
            found.append(e.invalid(e.child(where, "operator"), operator, "not a valid selector operator"))
        found += label_key(expression.get("key") or "", e.child(where, "key"))
        for j, value in enumerate(values):
            found += [
                e.invalid(e.index(e.child(where, "values"), j), value, m) for m in names.is_label_value(value)
            ]
    return found


def selector_is_empty(selector: Mapping[str, Any]) -> bool:
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def selector_matches(selector: Mapping[str, Any] | None, labels_: Mapping[str, str] | None) -> bool | None:
    """Whether a LabelSelector selects these labels; None when the selector does not parse. A missing
    selector selects nothing, an empty one everything (metav1.LabelSelectorAsSelector)."""
    try:
        return selectors.from_label_selector(selector).matches(labels_ or {})
    except selectors.SelectorError:
        return None
