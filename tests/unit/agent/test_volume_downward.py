"""Downward API values spelled as the kubelet spells them."""

from __future__ import annotations

import pytest

from kubelite.agent.volumes.downward import (
    DownwardError,
    container_resource_value,
    format_map,
    go_quote,
    metadata_value,
)

ALLOCATABLE = {"cpu": "3500m", "memory": "2Gi", "ephemeral-storage": "100Gi"}


def test_go_quote() -> None:
    assert go_quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    assert go_quote("tab\tnl\n\x01\x7f") == '"tab\\tnl\\n\\x01\\x7f"'
    assert go_quote("héllo ☃") == '"héllo ☃"'
    assert go_quote("\u200b") == '"\\u200b"'


def test_format_map_and_metadata() -> None:
    assert format_map({"b": "2", "a": "1"}) == 'a="1"\nb="2"'
    assert format_map({}) == ""
    pod = {"metadata": {"name": "p", "labels": {"x": "y"}, "annotations": {"k.io/a": "v"}}}
    assert metadata_value(pod, "metadata.annotations['k.io/a']") == "v"
    assert metadata_value(pod, "metadata.labels['absent']") == ""
    assert metadata_value(pod, "metadata.labels") == 'x="y"'
    with pytest.raises(DownwardError, match=r"unsupported fieldPath: status\.phase"):
        metadata_value(pod, "status.phase")


@pytest.mark.parametrize(
    ("resources", "resource", "divisor", "value"),
    [
        ({"limits": {"cpu": "250m"}}, "limits.cpu", None, "1"),  # rounded up
        ({"limits": {"cpu": "250m"}}, "limits.cpu", "1m", "250"),
        ({"limits": {"cpu": "1500m"}}, "limits.cpu", "0", "2"),
        ({}, "limits.cpu", "1m", "3500"),  # unset: node allocatable
        ({}, "requests.cpu", "1m", "0"),
        ({"requests": {"memory": "100Mi"}}, "requests.memory", "1Mi", "100"),
        ({"requests": {"memory": "100Mi"}}, "requests.memory", "1G", "1"),
        ({}, "limits.memory", None, str(2 * 1024**3)),
        ({"limits": {"ephemeral-storage": "1Gi"}}, "limits.ephemeral-storage", "1Mi", "1024"),
        ({"limits": {"hugepages-2Mi": "4Mi"}}, "limits.hugepages-2Mi", "2Mi", "2"),
    ],
)
def test_resource_values(
    resources: dict[str, dict[str, str]], resource: str, divisor: str | None, value: str
) -> None:
    pod = {"spec": {"containers": [{"name": "app", "resources": resources}]}}
    ref = {"containerName": "app", "resource": resource, "divisor": divisor}
    assert container_resource_value(pod, None, ref, ALLOCATABLE) == value


def test_resource_errors() -> None:
    pod = {"spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "init"}]}}
    assert (
        container_resource_value(pod, None, {"containerName": "init", "resource": "limits.cpu"}, ALLOCATABLE)
        == "4"
    )
    with pytest.raises(DownwardError, match=r"cannot find container: other"):
        container_resource_value(pod, None, {"containerName": "other", "resource": "limits.cpu"}, ALLOCATABLE)
    with pytest.raises(DownwardError, match=r"unsupported container resource : limits\.gpu"):
        container_resource_value(pod, None, {"containerName": "app", "resource": "limits.gpu"}, ALLOCATABLE)
