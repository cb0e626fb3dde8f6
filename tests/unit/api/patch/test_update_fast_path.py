"""Updates' managedFields with the shortcuts (equal subtrees skipped, field sets' encodings cached) equal
what the general path gives: every subtree walked, every fieldsV1 entry decoded and encoded afresh."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubelite.api import defaults
from kubelite.api.patch import fieldmanager, fieldpath, typed
from kubelite.api.patch.errors import PatchError
from kubelite.api.schema import kind_schema
from tests.support.examples import example_documents, require_examples

T0 = datetime(2026, 11, 26, tzinfo=UTC)


def outcome(old: dict[str, Any] | None, new: dict[str, Any], second: int, **kwargs: Any) -> Any:
    try:
        return fieldmanager.manage_write(
            copy.deepcopy(old), copy.deepcopy(new), now=T0 + timedelta(seconds=second), **kwargs
        )
    except PatchError as exc:
        return ["error", exc.code, exc.message]


def run_both(monkeypatch: pytest.MonkeyPatch, sequence: Callable[[], list[Any]]) -> None:
    fast = json.dumps(sequence())  # orjson refuses lone surrogates
    with monkeypatch.context() as general:
        general.setattr(typed, "_unchanged", lambda *_: False)
        general.setattr(fieldpath, "from_fields_v1", fieldpath._decode)
        general.setattr(fieldpath, "to_fields_v1", lambda fields: fieldpath._tree(list(fields)))
        assert json.dumps(sequence()) == fast


def updates(doc: dict[str, Any], group: str, version: str, kind: str) -> list[Any]:
    """Create, a label change, a status patch and another, a no-op, apply and an update after it."""
    kwargs: dict[str, Any] = {
        "schema": kind_schema(group, version, kind),
        "api_version": f"{group}/{version}" if group else version,
        "kind": kind,
    }
    main = {**kwargs, "operation": "Update", "reset_fields": (("status",),)}
    status = {**kwargs, "operation": "Update", "subresource": "status", "reset_fields": (("spec",),)}
    created = copy.deepcopy(doc)
    defaults.default(created)
    out = [outcome(None, created, 0, manager="creator", **main)]
    live = out[-1]
    if not isinstance(live, dict):
        return out
    live["metadata"]["uid"] = "u"

    def step(
        change: Callable[[dict[str, Any]], None], second: int, manager: str, how: dict[str, Any]
    ) -> None:
        nonlocal live
        new = copy.deepcopy(live)
        change(new)
        out.append(outcome(live, new, second, manager=manager, **how))
        if isinstance(out[-1], dict):
            live = out[-1]

    step(lambda o: o["metadata"].setdefault("labels", {}).update(changed="yes"), 1, "labeler", main)
    if isinstance(live.get("status", {}), dict):
        conditions = [{"type": "Ready", "status": "True"}, {"type": "Other", "status": "False"}]
        step(lambda o: o.setdefault("status", {}).update(conditions=conditions), 2, "kubelet", status)
        step(lambda o: o["status"]["conditions"][0].update(status="False"), 3, "kubelet", status)
    step(lambda o: None, 4, "noop", main)
    applied = outcome(live, copy.deepcopy(doc), 5, manager="kubectl", operation="Apply", **kwargs)
    out.append(applied)
    if isinstance(applied, dict):
        live = applied
        step(lambda o: o["metadata"].setdefault("annotations", {}).update(x="1"), 6, "editor", main)
    return out


def test_the_corpus_updates_the_same_managed_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    require_examples()
    examples = [e for e in example_documents() if kind_schema(e.group, e.version, e.kind) is not None]
    assert len(examples) > 100

    def sequence() -> list[Any]:
        return [updates(e.document, e.group, e.version, e.kind) for e in examples]

    run_both(monkeypatch, sequence)


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "namespace": "d", "labels": {"k": "v"}},
    "spec": {"containers": [{"name": "a", "image": "x", "stdin": True, "ports": [{"containerPort": 80}]}]},
}


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o["spec"]["containers"][0].update(stdin=1),  # Python says True == 1
        lambda o: o["spec"]["containers"][0]["ports"][0].update(containerPort=80.0),
        lambda o: o["spec"]["containers"][0]["ports"][0].update(containerPort=True),
        lambda o: o["metadata"]["labels"].update({"\ud800": "w"}),  # no UTF-8: no orjson
    ],
)
def test_values_equal_to_python_but_not_to_go_are_changes(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[dict[str, Any]], None]
) -> None:
    def sequence() -> list[Any]:
        kwargs = {"schema": kind_schema("", "v1", "Pod"), "api_version": "v1", "kind": "Pod"}
        created = outcome(None, POD, 0, manager="c", operation="Update", **kwargs)
        created["metadata"]["uid"] = "u"
        new = copy.deepcopy(created)
        change(new)
        return [created, outcome(created, new, 1, manager="e", operation="Update", **kwargs)]

    run_both(monkeypatch, sequence)


@pytest.mark.parametrize("bad", [None, {"image": "no name"}, "text"])
def test_an_unchanged_subtree_with_unusable_list_items_still_keeps_the_previous_fields(
    monkeypatch: pytest.MonkeyPatch, bad: Any
) -> None:
    """The walk of such a subtree fails, and a failed walk leaves managedFields as they were."""

    def sequence() -> list[Any]:
        kwargs = {"schema": kind_schema("", "v1", "Pod"), "api_version": "v1", "kind": "Pod"}
        old = outcome(None, POD, 0, manager="c", operation="Update", **kwargs)
        old["metadata"]["uid"] = "u"
        old["spec"]["containers"].append(bad)
        relabelled = copy.deepcopy(old)
        relabelled["metadata"]["labels"] = {"a": "b"}
        applied = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"q": "r"}}}
        return [
            outcome(old, relabelled, 1, manager="e", operation="Update", **kwargs),
            outcome(old, applied, 2, manager="ap", operation="Apply", **kwargs),
        ]

    run_both(monkeypatch, sequence)
