"""What kubectl 1.32.4 sent, captured on the wire against a logging HTTP server on 127.0.0.1.

kubectl was served LIVE_DEPLOYMENT (created by an earlier client-side apply). The applied manifest changed
replicas 2 -> 3 and nginx:1.25 -> 1.26, removed the DEBUG env var and the metadata labels, and added an
`init-log` container first; APPLY_RECREATE is the same manifest with `strategy: {type: Recreate}`. The
patch bodies are byte-for-byte what kubectl sent for `apply`, `rollout restart`, `set image nginx=nginx:1.27`
and `apply --server-side` (which then sends a second apply as `kubectl-last-applied` to keep the annotation).
"""

from typing import Any

LAST_APPLIED = (
    '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"web"},"name":"web",'
    '"namespace":"default"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"templa'
    'te":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"env":[{"name":"MODE","value'
    '":"prod"},{"name":"DEBUG","value":"1"}],"image":"nginx:1.25","name":"nginx","ports":[{"conta'
    'inerPort":80}]},{"args":["sleep","infinity"],"image":"busybox:1.36","name":"sidecar"}]}}}}\n'
)


def _defaulted_container(**fields: Any) -> dict[str, Any]:
    return {
        **fields,
        "imagePullPolicy": "IfNotPresent",
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


LIVE_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "default",
        "labels": {"app": "web"},
        "uid": "u-1",
        "resourceVersion": "7",
        "generation": 1,
        "creationTimestamp": "2024-01-01T00:00:00Z",
        "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": LAST_APPLIED,
            "deployment.kubernetes.io/revision": "1",
        },
    },
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    _defaulted_container(
                        name="nginx",
                        image="nginx:1.25",
                        env=[{"name": "MODE", "value": "prod"}, {"name": "DEBUG", "value": "1"}],
                        ports=[{"containerPort": 80, "protocol": "TCP"}],
                    ),
                    _defaulted_container(name="sidecar", image="busybox:1.36", args=["sleep", "infinity"]),
                ],
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30,
            },
        },
        "progressDeadlineSeconds": 600,
        "revisionHistoryLimit": 10,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
    },
}


CLIENT_SIDE_APPLY = (
    '{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"apiVersio'
    'n\\":\\"apps/v1\\",\\"kind\\":\\"Deployment\\",\\"metadata\\":{\\"annotations\\":{},\\"name\\":\\"web\\",\\"'
    'namespace\\":\\"default\\"},\\"spec\\":{\\"replicas\\":3,\\"selector\\":{\\"matchLabels\\":{\\"app\\":\\"w'
    'eb\\"}},\\"template\\":{\\"metadata\\":{\\"labels\\":{\\"app\\":\\"web\\"}},\\"spec\\":{\\"containers\\":[{'
    '\\"image\\":\\"busybox:1.36\\",\\"name\\":\\"init-log\\"},{\\"env\\":[{\\"name\\":\\"MODE\\",\\"value\\":\\"p'
    'rod\\"}],\\"image\\":\\"nginx:1.26\\",\\"name\\":\\"nginx\\",\\"ports\\":[{\\"containerPort\\":80}]},{\\"a'
    'rgs\\":[\\"sleep\\",\\"infinity\\"],\\"image\\":\\"busybox:1.36\\",\\"name\\":\\"sidecar\\"}]}}}}\\n"},"la'
    'bels":null},"spec":{"replicas":3,"template":{"spec":{"$setElementOrder/containers":[{"name":'
    '"init-log"},{"name":"nginx"},{"name":"sidecar"}],"containers":[{"image":"busybox:1.36","name'
    '":"init-log"},{"$setElementOrder/env":[{"name":"MODE"}],"env":[{"$patch":"delete","name":"DE'
    'BUG"}],"image":"nginx:1.26","name":"nginx"}]}}}}'
)


ROLLOUT_RESTART = (
    '{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11'
    '-25T20:02:07Z"}}}}}'
)


SET_IMAGE = (
    '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"},{"name":"sideca'
    'r"}],"containers":[{"image":"nginx:1.27","name":"nginx"}]}}}}'
)


APPLY_RECREATE = (
    '{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"apiVersio'
    'n\\":\\"apps/v1\\",\\"kind\\":\\"Deployment\\",\\"metadata\\":{\\"annotations\\":{},\\"name\\":\\"web\\",\\"'
    'namespace\\":\\"default\\"},\\"spec\\":{\\"replicas\\":3,\\"selector\\":{\\"matchLabels\\":{\\"app\\":\\"w'
    'eb\\"}},\\"strategy\\":{\\"type\\":\\"Recreate\\"},\\"template\\":{\\"metadata\\":{\\"labels\\":{\\"app\\":'
    '\\"web\\"}},\\"spec\\":{\\"containers\\":[{\\"image\\":\\"busybox:1.36\\",\\"name\\":\\"init-log\\"},{\\"en'
    'v\\":[{\\"name\\":\\"MODE\\",\\"value\\":\\"prod\\"}],\\"image\\":\\"nginx:1.26\\",\\"name\\":\\"nginx\\",\\"p'
    'orts\\":[{\\"containerPort\\":80}]},{\\"args\\":[\\"sleep\\",\\"infinity\\"],\\"image\\":\\"busybox:1.36'
    '\\",\\"name\\":\\"sidecar\\"}]}}}}\\n"},"labels":null},"spec":{"replicas":3,"strategy":{"$retainKe'
    'ys":["type"],"type":"Recreate"},"template":{"spec":{"$setElementOrder/containers":[{"name":"'
    'init-log"},{"name":"nginx"},{"name":"sidecar"}],"containers":[{"image":"busybox:1.36","name"'
    ':"init-log"},{"$setElementOrder/env":[{"name":"MODE"}],"env":[{"$patch":"delete","name":"DEB'
    'UG"}],"image":"nginx:1.26","name":"nginx"}]}}}}'
)


SERVER_SIDE_APPLY = (
    '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},'
    '"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"strategy":{"type":"Recreate"}'
    ',"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"busybox:1.3'
    '6","name":"init-log"},{"env":[{"name":"MODE","value":"prod"}],"image":"nginx:1.26","name":"n'
    'ginx","ports":[{"containerPort":80}]},{"args":["sleep","infinity"],"image":"busybox:1.36","n'
    'ame":"sidecar"}]}}}}'
)


SERVER_SIDE_LAST_APPLIED = (
    '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{"kubectl.kubernetes.i'
    'o/last-applied-configuration":"{\\"apiVersion\\":\\"apps/v1\\",\\"kind\\":\\"Deployment\\",\\"metadat'
    'a\\":{\\"labels\\":{\\"app\\":\\"web\\"},\\"name\\":\\"web\\",\\"namespace\\":\\"default\\"},\\"spec\\":{\\"re'
    'plicas\\":2,\\"selector\\":{\\"matchLabels\\":{\\"app\\":\\"web\\"}},\\"template\\":{\\"metadata\\":{\\"la'
    'bels\\":{\\"app\\":\\"web\\"}},\\"spec\\":{\\"containers\\":[{\\"env\\":[{\\"name\\":\\"MODE\\",\\"value\\":\\'
    '"prod\\"},{\\"name\\":\\"DEBUG\\",\\"value\\":\\"1\\"}],\\"image\\":\\"nginx:1.25\\",\\"name\\":\\"nginx\\",\\'
    '"ports\\":[{\\"containerPort\\":80}]},{\\"args\\":[\\"sleep\\",\\"infinity\\"],\\"image\\":\\"busybox:1.'
    '36\\",\\"name\\":\\"sidecar\\"}]}}}}\\n"},"name":"web","namespace":"default"}}'
)
