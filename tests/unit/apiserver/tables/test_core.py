"""Serviceaccounts, podtemplates, resourcequotas, limitranges."""

from __future__ import annotations

from tests.unit.apiserver.tables.printing import cells, headers, meta


def test_service_account() -> None:
    assert headers("", "serviceaccounts") == ["NAME", "SECRETS", "AGE"]
    account = {"metadata": meta("builder"), "secrets": [{"name": "builder-token"}]}
    assert cells("", "serviceaccounts", account) == ["builder", 1, "5m"]
    assert cells("", "serviceaccounts", {"metadata": meta("default")}) == ["default", 0, "5m"]


def test_pod_template() -> None:
    assert headers("", "podtemplates") == ["NAME", "CONTAINERS", "IMAGES", "POD LABELS"]
    template = {
        "metadata": meta("tpl"),
        "template": {
            "metadata": {"labels": {"tier": "db", "app": "pg"}},
            "spec": {
                "containers": [{"name": "pg", "image": "postgres:17"}, {"name": "exp", "image": "exp:1"}]
            },
        },
    }
    assert cells("", "podtemplates", template) == ["tpl", "pg,exp", "postgres:17,exp:1", "app=pg,tier=db"]
    assert cells("", "podtemplates", {"metadata": meta("empty")}) == ["empty", "", "", "<none>"]


def test_resource_quota() -> None:
    # Upstream 1.32 prints AGE before REQUEST and LIMIT.
    assert headers("", "resourcequotas") == ["NAME", "AGE", "REQUEST", "LIMIT"]
    quota = {
        "metadata": meta("compute"),
        "spec": {"hard": {}},
        "status": {
            "hard": {
                "requests.memory": "1Gi",
                "pods": "10",
                "limits.cpu": "2",
                "requests.cpu": "1",
                "limits.memory": "2Gi",
                "limits": "5",
            },
            "used": {"requests.cpu": "500m", "limits.cpu": "1", "pods": "3"},
        },
    }
    assert cells("", "resourcequotas", quota) == [
        "compute",
        "5m",
        "limits: 0/5, pods: 3/10, requests.cpu: 500m/1, requests.memory: 0/1Gi",
        "limits.cpu: 1/2, limits.memory: 0/2Gi",
    ]
    assert cells("", "resourcequotas", {"metadata": meta("new")}) == ["new", "5m", "", ""]


def test_limit_range_uses_the_default_columns() -> None:
    assert headers("", "limitranges") == ["NAME", "CREATED AT"]
    limits = {"metadata": meta("mem", creationTimestamp="2025-01-01T13:30:00+01:30"), "spec": {"limits": []}}
    assert cells("", "limitranges", limits) == ["mem", "2025-01-01T12:00:00Z"]
    assert cells("", "limitranges", {"metadata": {"name": "unset"}}) == ["unset", "0001-01-01T00:00:00Z"]
