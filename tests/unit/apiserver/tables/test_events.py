"""Events of both APIs print the same columns."""

from __future__ import annotations

from tests.unit.apiserver.tables.printing import ago, cells, headers, meta

POD = {"kind": "Pod", "namespace": "default", "name": "web-1", "fieldPath": "spec.containers{nginx}"}


def test_event_headers() -> None:
    for group in ("", "events.k8s.io"):
        assert headers(group, "events") == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        assert headers(group, "events", wide=True) == [
            "LAST SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST SEEN",
            "COUNT",
            "NAME",
        ]


def test_legacy_core_event() -> None:
    event = {
        "metadata": meta("web-1.17f3a"),
        "involvedObject": POD,
        "reason": "BackOff",
        "message": "Back-off restarting failed container nginx\n",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(hours=2),
        "lastTimestamp": ago(seconds=42),
        "count": 17,
    }
    assert cells("", "events", event) == [
        "42s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "spec.containers{nginx}",
        "kubelet, node-1",
        "Back-off restarting failed container nginx",
        "120m",
        17,
        "web-1.17f3a",
    ]


def test_event_written_by_the_new_api() -> None:
    # eventTime instead of first/last timestamps, a reporting controller instead of a source, no count.
    event = {
        "metadata": meta("web.1"),
        "involvedObject": {"kind": "Deployment", "name": "web"},
        "reason": "ScalingReplicaSet",
        "message": "Scaled up replica set web-5d8f to 3",
        "type": "Normal",
        "eventTime": "2025-01-01T11:57:00.123456Z",
        "reportingComponent": "deployment-controller",
        "reportingInstance": "",
    }
    row = cells("", "events", event)
    # 2m59.88s ago: microsecond times round down like every age.
    assert row[:6] == ["2m59s", "Normal", "ScalingReplicaSet", "deployment/web", "", "deployment-controller"]
    assert row[7:9] == ["2m59s", 1]


def test_event_series() -> None:
    event = {
        "metadata": meta("e"),
        "involvedObject": {"kind": "Node"},
        "eventTime": ago(minutes=30),
        "series": {"count": 5, "lastObservedTime": "2025-01-01T11:59:30.000000Z"},
        "count": 2,
    }
    row = cells("", "events", event)
    assert [row[0], row[3], row[7], row[8]] == ["30s", "node", "30m", 5]


def test_event_without_times() -> None:
    row = cells("", "events", {"metadata": meta("e"), "involvedObject": {}})
    assert row == ["<unknown>", "", "", "", "", "", "", "<unknown>", 1, "e"]


def test_events_k8s_io_event() -> None:
    event = {
        "metadata": meta("web-1.17f3a"),
        "eventTime": None,
        "regarding": POD,
        "reason": "Pulled",
        "note": "Container image already present on machine",
        "type": "Normal",
        "reportingController": "",
        "reportingInstance": "",
        "deprecatedSource": {"component": "kubelet", "host": "node-1"},
        "deprecatedFirstTimestamp": ago(minutes=10),
        "deprecatedLastTimestamp": ago(minutes=1),
        "deprecatedCount": 3,
    }
    assert cells("events.k8s.io", "events", event) == [
        "60s",
        "Normal",
        "Pulled",
        "pod/web-1",
        "spec.containers{nginx}",
        "kubelet, node-1",
        "Container image already present on machine",
        "10m",
        3,
        "web-1.17f3a",
    ]
    fresh = {
        "metadata": meta("n"),
        "eventTime": "2025-01-01T11:59:50.000000Z",
        "regarding": {"kind": "Node", "name": "node-1"},
        "reportingController": "kubelet",
        "reportingInstance": "node-1",
        "note": "ready",
    }
    assert cells("events.k8s.io", "events", fresh) == [
        "10s",
        "",
        "",
        "node/node-1",
        "",
        "kubelet, node-1",
        "ready",
        "10s",
        1,
        "n",
    ]
