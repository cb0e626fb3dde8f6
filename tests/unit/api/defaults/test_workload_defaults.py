"""Defaulted workloads compared with what a 1.32 API server returns (kubectl create ... --dry-run=server)."""

from __future__ import annotations

import copy
from typing import Any

from kubelite.api import defaults

UID = "3f1e2d4c-5b6a-4789-9abc-def012345678"

CONTAINER_DEFAULTS = {
    "imagePullPolicy": "Always",
    "resources": {},
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}
POD_SPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    defaults.default(obj)
    return obj


def test_deployment_as_kubectl_create_deployment_sends_it() -> None:
    sent = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx", "labels": {"app": "nginx"}, "creationTimestamp": None},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "nginx"}},
            "strategy": {},
            "template": {
                "metadata": {"labels": {"app": "nginx"}, "creationTimestamp": None},
                "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]},
            },
        },
        "status": {},
    }
    assert defaulted(sent)["spec"] == {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "nginx"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}, "creationTimestamp": None},
            "spec": {
                "containers": [{"name": "nginx", "image": "nginx", **CONTAINER_DEFAULTS}],
                **POD_SPEC_DEFAULTS,
            },
        },
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }


def test_a_minimal_deployment_gets_every_default() -> None:
    obj = defaulted(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "w", "image": "nginx:1.27"}]},
                },
            },
        }
    )
    assert obj["spec"]["replicas"] == 1
    assert obj["spec"]["template"]["metadata"]["creationTimestamp"] is None
    assert obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert obj["status"] == {}
    # apps/v1 does not copy template labels onto the Deployment.
    assert "labels" not in obj["metadata"]


def test_recreate_deployments_get_no_rolling_update() -> None:
    obj = defaulted(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"strategy": {"type": "Recreate"}},
        }
    )
    assert obj["spec"]["strategy"] == {"type": "Recreate"}


def test_replica_sets_daemon_sets_and_stateful_sets() -> None:
    spec = {
        "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}},
    }
    replica_set = defaulted(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "r"},
            "spec": copy.deepcopy(spec),
        }
    )
    assert replica_set["spec"]["replicas"] == 1
    assert replica_set["status"] == {"replicas": 0}
    daemon_set = defaulted(
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"}, "spec": copy.deepcopy(spec)}
    )
    assert daemon_set["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert daemon_set["spec"]["revisionHistoryLimit"] == 10
    stateful_set = defaulted(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                **copy.deepcopy(spec),
                "serviceName": "db",
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        }
    )
    assert {
        k: v for k, v in stateful_set["spec"].items() if k not in ("selector", "template", "serviceName")
    } == {
        "podManagementPolicy": "OrderedReady",
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        "replicas": 1,
        "revisionHistoryLimit": 10,
        "volumeClaimTemplates": [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data", "creationTimestamp": None},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                    "volumeMode": "Filesystem",
                },
                "status": {"phase": "Pending"},
            }
        ],
    }


def test_a_stateful_set_with_an_explicit_rolling_update_type_gets_no_partition() -> None:
    obj = defaulted(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {"updateStrategy": {"type": "RollingUpdate"}},
        }
    )
    assert obj["spec"]["updateStrategy"] == {"type": "RollingUpdate"}


def test_job_as_kubectl_create_job_gets_it_back() -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "uid": UID},
        "spec": {
            "template": {
                "metadata": {"creationTimestamp": None},
                "spec": {
                    "containers": [{"name": "pi", "image": "perl", "resources": {}}],
                    "restartPolicy": "Never",
                },
            }
        },
    }
    defaults.default(job)
    defaults.generate_job_selector(job)
    generated = {
        "batch.kubernetes.io/controller-uid": UID,
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": UID,
        "job-name": "pi",
    }
    assert job["metadata"]["labels"] == generated
    assert job["spec"] == {
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "completions": 1,
        "manualSelector": False,
        "parallelism": 1,
        "podReplacementPolicy": "TerminatingOrFailed",
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}},
        "suspend": False,
        "template": {
            "metadata": {"creationTimestamp": None, "labels": generated},
            "spec": {
                "containers": [{"name": "pi", "image": "perl", **CONTAINER_DEFAULTS}],
                **POD_SPEC_DEFAULTS,
                "restartPolicy": "Never",
            },
        },
    }
    assert job["status"] == {}


def test_job_counts_and_policies() -> None:
    base = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}}
    parallel = defaulted({**base, "spec": {"parallelism": 5}})
    assert "completions" not in parallel["spec"]
    assert defaulted({**base, "spec": {"completions": 5}})["spec"]["parallelism"] == 1
    per_index = defaulted(
        {**base, "spec": {"backoffLimitPerIndex": 1, "completionMode": "Indexed", "completions": 3}}
    )
    assert per_index["spec"]["backoffLimit"] == 2147483647
    with_policy = defaulted(
        {
            **base,
            "spec": {
                "podFailurePolicy": {
                    "rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]
                }
            },
        }
    )
    assert with_policy["spec"]["podReplacementPolicy"] == "Failed"
    assert with_policy["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"


def test_manual_selectors_are_not_generated() -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "uid": UID},
        "spec": {"manualSelector": True, "selector": {"matchLabels": {"a": "b"}}},
    }
    defaults.generate_job_selector(job)
    assert job["spec"]["selector"] == {"matchLabels": {"a": "b"}}


def test_cron_job_defaults_leave_the_job_template_spec_alone() -> None:
    obj = defaulted(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "hello"},
            "spec": {
                "schedule": "* * * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [{"name": "c", "image": "busybox"}],
                                "restartPolicy": "OnFailure",
                            }
                        }
                    }
                },
            },
        }
    )
    assert obj["spec"] == {
        "schedule": "* * * * *",
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
        "jobTemplate": {
            "metadata": {"creationTimestamp": None},
            "spec": {
                "template": {
                    "metadata": {"creationTimestamp": None},
                    "spec": {
                        "containers": [{"name": "c", "image": "busybox", **CONTAINER_DEFAULTS}],
                        **POD_SPEC_DEFAULTS,
                        "restartPolicy": "OnFailure",
                    },
                }
            },
        },
    }


def test_replication_controllers_select_their_template() -> None:
    obj = defaulted(
        {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "metadata": {"name": "rc"},
            "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": []}}},
        }
    )
    assert obj["spec"]["selector"] == {"app": "x"}
    assert obj["metadata"]["labels"] == {"app": "x"}
    assert obj["spec"]["replicas"] == 1


def test_storage_classes_and_endpoint_slices() -> None:
    storage_class = defaulted(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local"},
            "provisioner": "rancher.io/local-path",
        }
    )
    assert (storage_class["reclaimPolicy"], storage_class["volumeBindingMode"]) == ("Delete", "Immediate")
    endpoint_slice = defaulted(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": "s"},
            "addressType": "IPv4",
            "endpoints": [],
            "ports": [{"port": 80}],
        }
    )
    assert endpoint_slice["ports"] == [{"port": 80, "name": "", "protocol": "TCP"}]


def test_defaulting_twice_changes_nothing_more() -> None:
    obj = defaulted(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "c"},
            "spec": {
                "jobTemplate": {
                    "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}
                }
            },
        }
    )
    assert defaulted(obj) == obj
