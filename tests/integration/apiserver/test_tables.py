"""The real `kubectl get` against kubelite prints what it prints against a real cluster: same headers, same
cells, for default and -o wide output, -A, --show-labels, --sort-by and -w.

Expected tables are written as kubectl shows them. Header lines must match exactly (column widths
included); rows are compared cell by cell, and AGE cells of objects created by the test only need to be a
few seconds.
"""

from __future__ import annotations

import datetime
import json
import queue
import re
import threading
from textwrap import dedent

from tests.integration.apiserver.conftest import RunningServer

# Controllers do not run here, so each test writes the status a controller would report.
DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}, labels: {{app: {name}, tier: front}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - {{name: nginx, image: "nginx:1.27"}}
      - {{name: log, image: "busybox:1.36"}}
"""


def deployment(name: str, *, replicas: int = 3, namespace: str = "default") -> str:
    return DEPLOYMENT.format(name=name, replicas=replicas, namespace=namespace)


def split_columns(header: str) -> list[tuple[str, int]]:
    """The column names of a header line and where each starts (kubectl pads columns with 3+ spaces)."""
    columns: list[tuple[str, int]] = []
    position = 0
    for name in re.split(r" {3,}", header.strip()):
        position = header.index(name, position)
        columns.append((name, position))
        position += len(name)
    return columns


def parse(table: str) -> tuple[str, list[dict[str, str]]]:
    """The header line and the rows of one table, each row a {column: cell} dict (empty cells kept)."""
    header, *lines = [line.rstrip() for line in table.strip("\n").splitlines()]
    columns = split_columns(header)
    ends = [start for _, start in columns[1:]] + [None]
    rows = [
        {name: line[start:end].strip() for (name, start), end in zip(columns, ends, strict=True)}
        for line in lines
    ]
    return header, rows


AGE_OF_NEW_OBJECT = re.compile(r"^\d{1,2}s$")


def assert_table(output: str, expected: str) -> None:
    """`output` prints the tables in `expected`; an expected AGE of `0s` accepts any age under a minute."""
    actual_tables = output.strip("\n").split("\n\n")
    expected_tables = dedent(expected).strip("\n").split("\n\n")
    assert len(actual_tables) == len(expected_tables), output
    for actual, wanted in zip(actual_tables, expected_tables, strict=True):
        actual_header, actual_rows = parse(actual)
        wanted_header, wanted_rows = parse(wanted)
        assert actual_header == wanted_header, output
        assert len(actual_rows) == len(wanted_rows), output
        for got, want in zip(actual_rows, wanted_rows, strict=True):
            for column, cell in want.items():
                if column == "AGE" and cell == "0s":
                    assert AGE_OF_NEW_OBJECT.match(got[column]), (column, got, output)
                else:
                    assert got[column] == cell, (column, got, output)


def set_status(apiserver: RunningServer, kind: str, name: str, status: dict[str, object]) -> None:
    patch = json.dumps({"status": status})
    apiserver.kubectl("patch", kind, name, "--subresource=status", "--type=merge", "-p", patch)


def test_deployments(apiserver: RunningServer) -> None:
    apiserver.kubectl("create", "namespace", "shop")
    manifests = "---".join([deployment("web"), deployment("api", replicas=1, namespace="shop")])
    apiserver.kubectl("apply", "-f", "-", input=manifests)
    ready = {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    set_status(apiserver, "deployment", "web", ready)

    assert_table(
        apiserver.kubectl("get", "deployments").stdout,
        """
        NAME   READY   UP-TO-DATE   AVAILABLE   AGE
        web    2/3     3            2           0s
        """,
    )
    assert_table(
        apiserver.kubectl("get", "deployments", "-o", "wide").stdout,
        """
        NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES                    SELECTOR
        web    2/3     3            2           0s    nginx,log    nginx:1.27,busybox:1.36   app=web
        """,
    )
    assert_table(
        apiserver.kubectl("get", "deployments", "-A", "--show-labels").stdout,
        """
        NAMESPACE   NAME   READY   UP-TO-DATE   AVAILABLE   AGE   LABELS
        default     web    2/3     3            2           0s    app=web,tier=front
        shop        api    0/1     0            0           0s    app=api,tier=front
        """,
    )
    # --sort-by asks for whole objects in the rows and sorts on them.
    assert_table(
        apiserver.kubectl("get", "deployments", "-A", "--sort-by=.spec.replicas").stdout,
        """
        NAMESPACE   NAME   READY   UP-TO-DATE   AVAILABLE   AGE
        shop        api    0/1     0            0           0s
        default     web    2/3     3            2           0s
        """,
    )


def test_get_all_shows_every_group(apiserver: RunningServer) -> None:
    service = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: ClusterIP
  clusterIP: 10.43.100.20
  selector: {app: web}
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
"""
    apiserver.kubectl("create", "namespace", "shop")
    apiserver.kubectl(
        "apply", "-f", "-", input=deployment("web", replicas=2, namespace="shop") + "---" + service
    )
    assert_table(
        apiserver.kubectl("get", "all", "-n", "shop").stdout,
        """
        NAME          TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)   AGE
        service/web   ClusterIP   10.43.100.20   <none>        80/TCP    0s

        NAME                  READY   UP-TO-DATE   AVAILABLE   AGE
        deployment.apps/web   0/2     0            0           0s
        """,
    )


SERVICES = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: ClusterIP
  clusterIP: 10.43.100.10
  selector: {app: web, tier: front}
  ports:
  - {name: http, port: 80, protocol: TCP, targetPort: 8080}
  - {name: dns, port: 53, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: np}
spec:
  type: NodePort
  clusterIP: 10.43.100.11
  selector: {app: web}
  ports: [{port: 443, protocol: TCP, nodePort: 30443}]
---
apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  clusterIP: 10.43.100.12
  selector: {app: web}
  ports: [{port: 80, protocol: TCP, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  type: ExternalName
  externalName: db.example.com
"""


def test_services(apiserver: RunningServer) -> None:
    apiserver.kubectl("apply", "-f", "-", input=SERVICES)
    assert_table(
        apiserver.kubectl("get", "services").stdout,
        """
        NAME         TYPE           CLUSTER-IP     EXTERNAL-IP      PORT(S)         AGE
        db           ExternalName   <none>         db.example.com   <none>          0s
        kubernetes   ClusterIP      10.43.0.1      <none>           443/TCP         0s
        lb           LoadBalancer   10.43.100.12   <pending>        80:30080/TCP    0s
        np           NodePort       10.43.100.11   <none>           443:30443/TCP   0s
        web          ClusterIP      10.43.100.10   <none>           80/TCP,53/UDP   0s
        """,
    )
    set_status(apiserver, "service", "lb", {"loadBalancer": {"ingress": [{"ip": "192.168.5.200"}]}})
    assert_table(
        apiserver.kubectl("get", "service", "lb", "web", "-o", "wide").stdout,
        """
        NAME   TYPE           CLUSTER-IP     EXTERNAL-IP     PORT(S)         AGE   SELECTOR
        lb     LoadBalancer   10.43.100.12   192.168.5.200   80:30080/TCP    0s    app=web
        web    ClusterIP      10.43.100.10   <none>          80/TCP,53/UDP   0s    app=web,tier=front
        """,
    )


BATCH = """
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  completions: 3
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: "perl:5.34", command: [perl, -e, print]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: crunch}
spec:
  parallelism: 4
  completions: null
  template:
    spec:
      restartPolicy: Never
      containers: [{name: crunch, image: "busybox:1.36"}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: hello}
spec:
  schedule: "*/5 * * * *"
  timeZone: Etc/UTC
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: hello, image: "busybox:1.36"}]
"""


def test_jobs_and_cronjobs(apiserver: RunningServer) -> None:
    apiserver.kubectl("apply", "-f", "-", input=BATCH)
    done = {
        "startTime": "2025-01-01T00:00:00Z",
        "completionTime": "2025-01-01T00:01:05Z",
        "succeeded": 3,
        "conditions": [
            {"type": "SuccessCriteriaMet", "status": "True"},
            {"type": "Complete", "status": "True"},
        ],
    }
    set_status(apiserver, "job", "pi", done)
    assert_table(
        apiserver.kubectl("get", "jobs").stdout,
        """
        NAME     STATUS     COMPLETIONS   DURATION   AGE
        crunch   Running    0/1 of 4                 0s
        pi       Complete   3/3           65s        0s
        """,
    )
    # The selector carries the uid the server generated, so only its shape is known.
    header, rows = parse(apiserver.kubectl("get", "job", "pi", "-o", "wide").stdout)
    assert header.split() == [
        "NAME",
        "STATUS",
        "COMPLETIONS",
        "DURATION",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    assert rows[0]["CONTAINERS"] == "pi" and rows[0]["IMAGES"] == "perl:5.34"
    assert re.fullmatch(r"batch\.kubernetes\.io/controller-uid=[0-9a-f-]{36}", rows[0]["SELECTOR"])

    assert_table(
        apiserver.kubectl("get", "cronjobs", "-o", "wide").stdout,
        """
        NAME    SCHEDULE      TIMEZONE   SUSPEND   ACTIVE   LAST SCHEDULE   AGE   CONTAINERS   IMAGES         SELECTOR
        hello   */5 * * * *   Etc/UTC    False     0        <none>          0s    hello        busybox:1.36   <none>
        """,  # noqa: E501
    )


NODE = """
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {node-role.kubernetes.io/control-plane: "true", kubernetes.io/hostname: node-1}
spec: {unschedulable: true}
status:
  conditions:
  - {type: Ready, status: "True", reason: KubeletReady, message: ready,
     lastHeartbeatTime: "2025-01-01T00:00:00Z", lastTransitionTime: "2025-01-01T00:00:00Z"}
  addresses: [{type: InternalIP, address: 192.168.5.10}, {type: Hostname, address: node-1}]
  nodeInfo: {kubeletVersion: v1.32.4+kubelite, osImage: Ubuntu 24.04.1 LTS, kernelVersion: 6.8.0-45-generic,
    containerRuntimeVersion: "containerd://1.7.22", machineID: m, systemUUID: s, bootID: b,
    kubeProxyVersion: v1.32.4, operatingSystem: linux, architecture: amd64}
---
apiVersion: v1
kind: Node
metadata: {name: node-2}
"""


def test_nodes_created_through_the_api(apiserver: RunningServer) -> None:
    apiserver.kubectl("apply", "-f", "-", input=NODE)
    assert_table(
        apiserver.kubectl("get", "nodes").stdout,
        """
        NAME     STATUS                     ROLES           AGE   VERSION
        node-1   Ready,SchedulingDisabled   control-plane   0s    v1.32.4+kubelite
        node-2   Unknown                    <none>          0s
        """,
    )
    assert_table(
        apiserver.kubectl("get", "node", "node-1", "-o", "wide", "--show-labels").stdout,
        """
        NAME     STATUS                     ROLES           AGE   VERSION            INTERNAL-IP    EXTERNAL-IP   OS-IMAGE             KERNEL-VERSION     CONTAINER-RUNTIME     LABELS
        node-1   Ready,SchedulingDisabled   control-plane   0s    v1.32.4+kubelite   192.168.5.10   <none>        Ubuntu 24.04.1 LTS   6.8.0-45-generic   containerd://1.7.22   kubernetes.io/hostname=node-1,node-role.kubernetes.io/control-plane=true
        """,  # noqa: E501
    )


def test_events(apiserver: RunningServer) -> None:
    now = datetime.datetime.now(datetime.UTC)

    def stamp(delta: datetime.timedelta) -> str:
        return (now - delta).strftime("%Y-%m-%dT%H:%M:%SZ")

    core = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web-1.17f3a"},
        "involvedObject": {
            "kind": "Pod",
            "name": "web-1",
            "namespace": "default",
            "fieldPath": "spec.containers{nginx}",
        },
        "reason": "BackOff",
        "message": "Back-off restarting failed container nginx in pod web-1",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": stamp(datetime.timedelta(days=10)),
        "lastTimestamp": stamp(datetime.timedelta(days=3, hours=12)),
        "count": 17,
    }
    new_api = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "node-1.2b9c"},
        "eventTime": (now - datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "regarding": {"kind": "Node", "name": "node-1"},
        "reportingController": "kubelet",
        "reportingInstance": "node-1",
        "action": "Starting",
        "reason": "Starting",
        "note": "Starting kubelet.",
        "type": "Normal",
    }
    for event in (core, new_api):
        apiserver.kubectl("create", "-f", "-", input=json.dumps(event))
    assert_table(
        apiserver.kubectl("get", "events").stdout,
        """
        LAST SEEN   TYPE      REASON    OBJECT      MESSAGE
        3d12h       Warning   BackOff   pod/web-1   Back-off restarting failed container nginx in pod web-1
        """,
    )
    assert_table(
        apiserver.kubectl("get", "events", "-o", "wide").stdout,
        """
        LAST SEEN   TYPE      REASON    OBJECT      SUBOBJECT                SOURCE            MESSAGE                                                   FIRST SEEN   COUNT   NAME
        3d12h       Warning   BackOff   pod/web-1   spec.containers{nginx}   kubelet, node-1   Back-off restarting failed container nginx in pod web-1   10d          17      web-1.17f3a
        """,  # noqa: E501
    )
    assert_table(
        apiserver.kubectl("get", "events.v1.events.k8s.io", "-o", "wide").stdout,
        """
        LAST SEEN   TYPE     REASON     OBJECT        SUBOBJECT   SOURCE            MESSAGE             FIRST SEEN   COUNT   NAME
        10d         Normal   Starting   node/node-1               kubelet, node-1   Starting kubelet.   10d          1       node-1.2b9c
        """,  # noqa: E501
    )


OTHER_KINDS = """
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local-path, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: rancher.io/local-path
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-path
  volumeMode: Filesystem
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute}
spec:
  hard: {requests.cpu: "1", limits.memory: 2Gi, pods: "10"}
---
apiVersion: v1
kind: LimitRange
metadata: {name: mem}
spec:
  limits: [{type: Container, default: {memory: 512Mi}}]
"""


def test_storage_and_policy_kinds(apiserver: RunningServer) -> None:
    apiserver.kubectl("apply", "-f", "-", input=OTHER_KINDS)
    set_status(apiserver, "pvc", "data", {"phase": "Pending"})
    set_status(
        apiserver,
        "quota",
        "compute",
        {
            "hard": {"requests.cpu": "1", "limits.memory": "2Gi", "pods": "10"},
            "used": {"requests.cpu": "500m"},
        },
    )
    assert_table(
        apiserver.kubectl("get", "storageclasses").stdout,
        """
        NAME                   PROVISIONER             RECLAIMPOLICY   VOLUMEBINDINGMODE      ALLOWVOLUMEEXPANSION   AGE
        local-path (default)   rancher.io/local-path   Delete          WaitForFirstConsumer   false                  0s
        """,  # noqa: E501
    )
    assert_table(
        apiserver.kubectl("get", "pvc", "-o", "wide").stdout,
        """
        NAME   STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE   VOLUMEMODE
        data   Pending                                      local-path     <unset>                 0s    Filesystem
        """,  # noqa: E501
    )
    assert_table(
        apiserver.kubectl("get", "resourcequotas").stdout,
        """
        NAME      AGE   REQUEST                            LIMIT
        compute   0s    pods: 0/10, requests.cpu: 500m/1   limits.memory: 0/2Gi
        """,
    )
    header, rows = parse(apiserver.kubectl("get", "limitranges").stdout)
    assert header == "NAME   CREATED AT"
    assert rows[0]["NAME"] == "mem"
    created = datetime.datetime.fromisoformat(rows[0]["CREATED AT"].replace("Z", "+00:00"))
    assert abs(datetime.datetime.now(datetime.UTC) - created) < datetime.timedelta(minutes=1)


def test_watch_prints_a_row_per_change(apiserver: RunningServer) -> None:
    apiserver.kubectl("apply", "-f", "-", input=deployment("web", replicas=2))
    watcher = apiserver.kubectl_popen("get", "deployment", "web", "-w")
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in watcher.stdout or []:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert lines.get(timeout=30).rstrip() == "NAME   READY   UP-TO-DATE   AVAILABLE   AGE"
        assert re.split(r" {3,}", lines.get(timeout=30).strip())[:4] == ["web", "0/2", "0", "0"]
        set_status(apiserver, "deployment", "web", {"replicas": 2, "readyReplicas": 1, "updatedReplicas": 2})
        assert re.split(r" {3,}", lines.get(timeout=30).strip())[:4] == ["web", "1/2", "2", "0"]
    finally:
        watcher.kill()
        watcher.wait(timeout=30)
        reader.join(timeout=30)
        for stream in (watcher.stdout, watcher.stderr):
            if stream is not None:
                stream.close()
    assert watcher.returncode is not None
