"""The resource table: upstream's names, scopes, short names, categories and subresources."""

from __future__ import annotations

from kubelite.api import resources
from kubelite.api.schema import kind_schema


def test_lookups() -> None:
    pods = resources.find("", "v1", "pods")
    assert pods is not None and pods is resources.for_kind("", "v1", "Pod")
    assert (pods.api_version, pods.group_version_path, pods.list_kind) == ("v1", "api/v1", "PodList")
    deployments = resources.find("apps", "v1", "deployments")
    assert deployments is not None
    assert (deployments.api_version, deployments.group_version_path) == ("apps/v1", "apis/apps/v1")
    assert resources.find("", "v1", "widgets") is None
    assert resources.group_versions()[0] == ("", "v1")
    assert {r.plural for r in resources.in_group_version("batch", "v1")} == {"jobs", "cronjobs"}


def test_every_kind_of_the_issue_is_served() -> None:
    served = {(r.group, r.plural) for r in resources.RESOURCES}
    core = {
        "namespaces", "pods", "nodes", "services", "endpoints", "configmaps", "secrets", "serviceaccounts",
        "events", "persistentvolumes", "persistentvolumeclaims", "resourcequotas", "limitranges",
        "replicationcontrollers", "podtemplates",
    }  # fmt: skip
    assert {("", plural) for plural in core} <= served
    assert {
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("apps", "daemonsets"),
        ("apps", "statefulsets"),
        ("apps", "controllerrevisions"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
        ("discovery.k8s.io", "endpointslices"),
        ("storage.k8s.io", "storageclasses"),
        ("coordination.k8s.io", "leases"),
        ("events.k8s.io", "events"),
    } <= served


def test_scopes_short_names_and_categories_are_upstreams() -> None:
    by_plural = {(r.group, r.plural): r for r in resources.RESOURCES}
    assert not by_plural["", "namespaces"].namespaced and not by_plural["", "nodes"].namespaced
    assert not by_plural["", "persistentvolumes"].namespaced
    assert not by_plural["storage.k8s.io", "storageclasses"].namespaced
    assert by_plural["", "pods"].namespaced
    assert "deletecollection" not in by_plural["", "namespaces"].verbs
    short = {r.plural: r.short_names for r in resources.RESOURCES if r.group != "events.k8s.io"}
    assert short["pods"] == ("po",) and short["services"] == ("svc",) and short["deployments"] == ("deploy",)
    assert short["persistentvolumeclaims"] == ("pvc",) and short["resourcequotas"] == ("quota",)
    assert short["limitranges"] == ("limits",) and short["cronjobs"] == ("cj",)
    in_all = {r.plural for r in resources.RESOURCES if "all" in r.categories}
    assert in_all == {
        "pods", "services", "replicationcontrollers", "deployments", "replicasets", "statefulsets",
        "daemonsets", "jobs", "cronjobs",
    }  # fmt: skip


def test_subresources_and_their_kinds() -> None:
    pods = resources.find("", "v1", "pods")
    assert pods is not None
    subs = {sub.name: sub for sub in pods.subresources}
    assert set(subs) == {"status", "log", "exec", "portforward", "attach", "binding", "eviction"}
    assert pods.subresource_gvk(subs["eviction"]) == ("policy", "v1", "Eviction")
    assert pods.subresource_gvk(subs["status"]) == ("", "v1", "Pod")
    assert subs["exec"].connect and not subs["status"].connect
    for plural in ("deployments", "replicasets", "statefulsets"):
        resource = resources.find("apps", "v1", plural)
        assert resource is not None
        [scale] = [sub for sub in resource.subresources if sub.name == "scale"]
        assert resource.subresource_gvk(scale) == ("autoscaling", "v1", "Scale")
    nodes = resources.find("", "v1", "nodes")
    assert nodes is not None and {sub.name for sub in nodes.subresources} == {"status", "proxy"}


def test_core_resources_have_schemas_for_their_kinds_and_lists() -> None:
    for resource in resources.in_group_version("", "v1"):
        assert kind_schema("", "v1", resource.kind) is not None
        if "list" in resource.verbs:
            assert kind_schema("", "v1", resource.list_kind) is not None
        for sub in resource.subresources:
            if not sub.connect:
                assert kind_schema(*resource.subresource_gvk(sub)) is not None, sub.name
