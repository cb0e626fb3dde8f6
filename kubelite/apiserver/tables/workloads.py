"""Table columns of the replicated workloads: deployments, replicasets, replicationcontrollers, daemonsets,
statefulsets and controllerrevisions.

Replica counts come from status (0 until a controller reports); the desired count is spec.replicas, which
defaulting sets to 1. Wide output adds the template's containers and images and the selector.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.apiserver.tables.base import AGE, NAME, Column, Row, age, name_of, register
from kubelite.apiserver.tables.formats import (
    CONTAINERS,
    IMAGES,
    NONE,
    container_cells,
    format_label_selector,
    format_labels,
    label_selector_string,
    owner_controller,
    template_spec,
)


def _count(section: dict[str, Any] | None, field: str) -> int:
    return int((section or {}).get(field) or 0)


def _desired(obj: dict[str, Any]) -> int:
    replicas = (obj.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def _deployment(obj: dict[str, Any], now: datetime.datetime) -> Row:
    status = obj.get("status")
    # Unlike the other workloads, deployments print an empty selector as "" rather than <none>.
    try:
        selector = label_selector_string((obj.get("spec") or {}).get("selector"))
    except ValueError:
        selector = "<invalid>"
    return [
        name_of(obj),
        f"{_count(status, 'readyReplicas')}/{_desired(obj)}",
        _count(status, "updatedReplicas"),
        _count(status, "availableReplicas"),
        age(obj, now),
        *container_cells(template_spec(obj)),
        selector,
    ]


def _replica_set(obj: dict[str, Any], now: datetime.datetime) -> Row:
    status = obj.get("status")
    return [
        name_of(obj),
        _desired(obj),
        _count(status, "replicas"),
        _count(status, "readyReplicas"),
        age(obj, now),
        *container_cells(template_spec(obj)),
        format_label_selector((obj.get("spec") or {}).get("selector")),
    ]


def _replication_controller(obj: dict[str, Any], now: datetime.datetime) -> Row:
    status = obj.get("status")
    return [
        name_of(obj),
        _desired(obj),
        _count(status, "replicas"),
        _count(status, "readyReplicas"),
        age(obj, now),
        *container_cells(template_spec(obj)),
        format_labels((obj.get("spec") or {}).get("selector")),
    ]


def _daemon_set(obj: dict[str, Any], now: datetime.datetime) -> Row:
    status = obj.get("status")
    pod_spec = template_spec(obj)
    return [
        name_of(obj),
        _count(status, "desiredNumberScheduled"),
        _count(status, "currentNumberScheduled"),
        _count(status, "numberReady"),
        _count(status, "updatedNumberScheduled"),
        _count(status, "numberAvailable"),
        format_labels(pod_spec.get("nodeSelector")),
        age(obj, now),
        *container_cells(pod_spec),
        format_label_selector((obj.get("spec") or {}).get("selector")),
    ]


def _stateful_set(obj: dict[str, Any], now: datetime.datetime) -> Row:
    ready = _count(obj.get("status"), "readyReplicas")
    return [name_of(obj), f"{ready}/{_desired(obj)}", age(obj, now), *container_cells(template_spec(obj))]


def _controller_name(obj: dict[str, Any]) -> str:
    """`daemonset.apps/fluentd`: the controlling owner as lower-case kind.group/name."""
    ref = owner_controller(obj)
    if ref is None:
        return NONE
    api_version, kind = str(ref.get("apiVersion", "")), str(ref.get("kind", ""))
    group = api_version.rpartition("/")[0]
    group_kind = f"{kind}.{group}" if group else kind
    return f"{group_kind.lower()}/{ref.get('name', '')}" if group_kind else str(ref.get("name", ""))


def _controller_revision(obj: dict[str, Any], now: datetime.datetime) -> Row:
    return [name_of(obj), _controller_name(obj), int(obj.get("revision") or 0), age(obj, now)]


_READY = Column("Ready", description="Number of the pod with ready state")
_DESIRED = Column("Desired", type="integer", description="Number of desired pods.")
_CURRENT = Column("Current", type="integer", description="Number of pods the controller has created.")
_READY_COUNT = Column("Ready", type="integer", description="Number of pods that are ready.")
_SELECTOR = Column("Selector", priority=1, description="Label query over the pods the controller manages.")

register(
    "apps",
    "deployments",
    (
        NAME,
        _READY,
        Column("Up-to-date", description="Total number of pods that have the desired template."),
        Column(
            "Available", description="Total number of available pods (ready for at least minReadySeconds)."
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        _SELECTOR,
    ),
    _deployment,
)
register(
    "apps",
    "replicasets",
    (NAME, _DESIRED, _CURRENT, _READY_COUNT, AGE, CONTAINERS, IMAGES, _SELECTOR),
    _replica_set,
)
register(
    "",
    "replicationcontrollers",
    (NAME, _DESIRED, _CURRENT, _READY_COUNT, AGE, CONTAINERS, IMAGES, _SELECTOR),
    _replication_controller,
)
register(
    "apps",
    "daemonsets",
    (
        NAME,
        Column("Desired", type="integer", description="Number of nodes that should run the daemon pod."),
        Column("Current", type="integer", description="Number of nodes running at least one daemon pod."),
        Column("Ready", type="integer", description="Number of nodes whose daemon pod is ready."),
        Column("Up-to-date", type="integer", description="Number of nodes running the updated daemon pod."),
        Column("Available", type="integer", description="Number of nodes whose daemon pod is available."),
        Column("Node Selector", description="Labels a node must carry to run the daemon pod."),
        AGE,
        CONTAINERS,
        IMAGES,
        _SELECTOR,
    ),
    _daemon_set,
)
register("apps", "statefulsets", (NAME, _READY, AGE, CONTAINERS, IMAGES), _stateful_set)
register(
    "apps",
    "controllerrevisions",
    (
        NAME,
        Column("Controller", description="Controller of the object"),
        Column("Revision", description="Revision of the state the data represents."),
        AGE,
    ),
    _controller_revision,
)
