"""Persistentvolumes, persistentvolumeclaims and storageclasses."""

from __future__ import annotations

from typing import Any

from tests.unit.apiserver.tables.printing import ago, cells, headers, meta


def test_persistent_volume_headers() -> None:
    assert headers("", "persistentvolumes", wide=True) == [
        "NAME",
        "CAPACITY",
        "ACCESS MODES",
        "RECLAIM POLICY",
        "STATUS",
        "CLAIM",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "REASON",
        "AGE",
        "VOLUMEMODE",
    ]


def test_bound_persistent_volume() -> None:
    pv = {
        "metadata": meta("pv-1", namespace=""),
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "local-path",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    assert cells("", "persistentvolumes", pv) == [
        "pv-1",
        "10Gi",
        "RWO,RWX",
        "Retain",
        "Bound",
        "default/data",
        "local-path",
        "<unset>",
        "",
        "5m",
        "Filesystem",
    ]


def test_released_volume_being_deleted() -> None:
    pv = {
        "metadata": meta(
            "pv-2",
            deletionTimestamp=ago(seconds=3),
            annotations={"volume.beta.kubernetes.io/storage-class": "legacy"},
        ),
        "spec": {"accessModes": ["ReadOnlyMany", "ReadWriteOncePod"], "volumeAttributesClassName": "gold"},
        "status": {"phase": "Failed", "reason": "VolumeFailedRecycle"},
    }
    assert cells("", "persistentvolumes", pv) == [
        "pv-2",
        "0",
        "ROX,RWOP",
        "",
        "Terminating",
        "",
        "legacy",
        "gold",
        "VolumeFailedRecycle",
        "5m",
        "<unset>",
    ]


def _claim(spec: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": meta("data"), "spec": spec, "status": status}


def test_persistent_volume_claims() -> None:
    assert headers("", "persistentvolumeclaims") == [
        "NAME",
        "STATUS",
        "VOLUME",
        "CAPACITY",
        "ACCESS MODES",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "AGE",
    ]
    request = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    pending = _claim({**request, "storageClassName": "local-path"}, {"phase": "Pending"})
    assert cells("", "persistentvolumeclaims", pending) == [
        "data",
        "Pending",
        "",
        "",
        "",
        "local-path",
        "<unset>",
        "5m",
        "<unset>",
    ]
    bound = _claim(
        {**request, "volumeName": "pvc-123", "storageClassName": "local-path", "volumeMode": "Block"},
        {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "2Gi"}},
    )
    assert cells("", "persistentvolumeclaims", bound) == [
        "data",
        "Bound",
        "pvc-123",
        "2Gi",
        "RWO",
        "local-path",
        "<unset>",
        "5m",
        "Block",
    ]
    unreported = _claim({**request, "volumeName": "pvc-9"}, {})
    assert cells("", "persistentvolumeclaims", unreported)[1:6] == ["", "pvc-9", "0", "", ""]


def test_storage_classes() -> None:
    assert headers("storage.k8s.io", "storageclasses") == [
        "NAME",
        "PROVISIONER",
        "RECLAIMPOLICY",
        "VOLUMEBINDINGMODE",
        "ALLOWVOLUMEEXPANSION",
        "AGE",
    ]
    default = {
        "metadata": meta("local-path", annotations={"storageclass.kubernetes.io/is-default-class": "true"}),
        "provisioner": "rancher.io/local-path",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    assert cells("storage.k8s.io", "storageclasses", default) == [
        "local-path (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        False,
        "5m",
    ]
    beta_default = {
        "metadata": meta("fast", annotations={"storageclass.beta.kubernetes.io/is-default-class": "true"}),
        "provisioner": "example.com/ssd",
        "allowVolumeExpansion": True,
    }
    assert cells("storage.k8s.io", "storageclasses", beta_default)[:5] == [
        "fast (default)",
        "example.com/ssd",
        "Delete",
        "Immediate",
        True,
    ]
    not_default = {
        "metadata": meta("slow", annotations={"storageclass.kubernetes.io/is-default-class": "false"}),
        "provisioner": "example.com/hdd",
        "reclaimPolicy": "Retain",
    }
    assert cells("storage.k8s.io", "storageclasses", not_default)[:3] == ["slow", "example.com/hdd", "Retain"]
