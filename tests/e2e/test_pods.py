"""Real pods on `kubelite server`, driven by the real kubectl as a user drives a cluster.

One server per module runs inside a network namespace of its own (tests.support.cluster): its in-process
agent runs busybox containers with crun under conmon, wires them with the CNI plugins, and mounts their
volumes. Every test works in a namespace of its own and checks what a user would look at: `kubectl logs`,
`exec`, `port-forward`, pod status — and, for volumes, the host's own view (tmpfs mounts, hostPath files).
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import ServerProcess, server_in_netns, start_server, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with server_in_netns(tmp_path_factory.mktemp("pods")) as running:
        _wait_ready(running)
        yield running


class Namespace:
    def __init__(self, cluster: ServerProcess) -> None:
        self.cluster = cluster
        self.name = f"e2e-{uuid.uuid4().hex[:8]}"

    def kubectl(self, *args: str, check: bool = True, input: str | None = None, timeout: float = 60) -> str:
        done = self.cluster.kubectl("-n", self.name, *args, check=check, input=input, timeout=timeout)
        return done.stdout if check else done.stdout + done.stderr

    def apply(self, manifest: str) -> None:
        self.kubectl("apply", "-f", "-", input=manifest)

    def pod(self, name: str) -> Any:
        return json.loads(self.kubectl("get", "pod", name, "-o", "json"))

    def wait_phase(self, name: str, *phases: str, within: float = 60) -> Any:
        seen: dict[str, Any] = {}

        def reached() -> bool:
            seen["pod"] = self.pod(name)
            return seen["pod"].get("status", {}).get("phase") in phases

        try:
            wait_for(reached, within=within, what=f"pod {name} to be {'/'.join(phases)}")
        except AssertionError as error:
            events = self.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}")
            raise AssertionError(f"{error}; status: {seen.get('pod', {}).get('status')}\n{events}") from None
        return seen["pod"]

    def wait_running(self, name: str) -> Any:
        return self.wait_phase(name, "Running")


@pytest.fixture
def ns(cluster: ServerProcess) -> Iterator[Namespace]:
    namespace = Namespace(cluster)
    cluster.kubectl("create", "namespace", namespace.name)
    try:
        yield namespace
    finally:
        cluster.kubectl("delete", "namespace", namespace.name, "--wait=false", check=False)


def test_a_pod_runs_and_its_output_shows_in_kubectl_logs(ns: Namespace) -> None:
    ns.kubectl("run", "hello", "--image=busybox", "--restart=Never", "--",
               "sh", "-c", "echo hello from kubelite; echo to stderr >&2; sleep 0.2; hostname")
    pod = ns.wait_phase("hello", "Succeeded")
    status = pod["status"]["containerStatuses"][0]
    assert status["state"]["terminated"]["exitCode"] == 0
    assert status["state"]["terminated"]["reason"] == "Completed"
    assert status["containerID"].startswith("crun://")
    assert pod["status"]["podIP"].startswith("10.42.")
    # stdout and stderr reach the log through two pipes: lines keep their order within each stream only.
    assert sorted(ns.kubectl("logs", "hello").splitlines()) == ["hello", "hello from kubelite", "to stderr"]
    assert ns.kubectl("logs", "hello", "--tail=1") == "hello\n"
    stamped = ns.kubectl("logs", "hello", "--timestamps").splitlines()
    assert stamped[0].endswith(" hello from kubelite") and stamped[0][:4].isdigit()
    assert "Completed" in ns.kubectl("get", "pod", "hello")


def test_exec_with_stdin_and_exit_codes_and_port_forward_to_busybox_httpd(
    ns: Namespace, cluster: ServerProcess, tmp_path: Path
) -> None:
    serve = "mkdir -p /www && echo served by busybox > /www/index.html && httpd -f -p 8080 -h /www"
    ns.kubectl("create", "deployment", "web", "--image=busybox", "--", "sh", "-c", serve)
    wait_for(lambda: "1/1" in ns.kubectl("get", "deploy", "web"), within=60, what="the deployment")
    pod = ns.kubectl("get", "pods", "-l", "app=web", "-o", "name").strip()

    assert ns.kubectl("exec", pod, "--", "cat", "/www/index.html") == "served by busybox\n"
    assert ns.kubectl("exec", "-i", pod, "--", "sh", "-c", "tr a-z A-Z", input="shout\n") == "SHOUT\n"
    failed = cluster.kubectl("-n", ns.name, "exec", pod, "--", "sh", "-c", "echo oops >&2; exit 3",
                             check=False)
    assert failed.returncode == 3 and "oops" in failed.stderr
    # Without a terminal for stdin kubectl falls back to a plain stream, as it does against any cluster.
    assert "SHOUT" in ns.kubectl("exec", "-it", pod, "--", "sh", "-c", "tr a-z A-Z", input="shout\n")

    local_port = 18000 + uuid.uuid4().int % 1000
    forward = subprocess.Popen(
        cluster.kubectl_command("-n", ns.name, "port-forward", pod, f"{local_port}:8080"),
        env=cluster.kubectl_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert forward.stdout is not None
        assert "Forwarding from 127.0.0.1" in forward.stdout.readline()
        for _ in range(2):  # each request is a new connection through the same session
            fetched = cluster.netns.run("busybox", "wget", "-q", "-O", "-", f"http://127.0.0.1:{local_port}/")
            assert fetched.stdout == "served by busybox\n"
    finally:
        forward.kill()
        forward.communicate(timeout=10)


def test_env_from_configmap_and_secret(ns: Namespace) -> None:
    ns.kubectl("create", "configmap", "settings", "--from-literal=COLOR=blue", "--from-literal=SIZE=9")
    ns.kubectl("create", "secret", "generic", "creds", "--from-literal=password=s3cret")
    ns.apply("""
apiVersion: v1
kind: Pod
metadata: {name: env, labels: {tier: back}}
spec:
  restartPolicy: Never
  containers:
  - name: show
    image: busybox
    command: ["sh", "-c", "echo $CFG_COLOR $CFG_SIZE $PASSWORD $MY_POD $TIER $GREETING"]
    envFrom:
    - {prefix: CFG_, configMapRef: {name: settings}}
    env:
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: MY_POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: TIER, valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}}
    - {name: GREETING, value: "hi-$(MY_POD)"}
""")
    ns.wait_phase("env", "Succeeded")
    assert ns.kubectl("logs", "env") == "blue 9 s3cret env back hi-env\n"


def _mounts_under(path: str) -> list[str]:
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if path in line]


def test_secret_volume_lives_on_tmpfs_and_goes_with_the_pod(ns: Namespace) -> None:
    ns.kubectl("create", "secret", "generic", "tls", "--from-literal=key=topsecret")
    ns.apply("""
apiVersion: v1
kind: Pod
metadata: {name: secret-reader}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: reader
    image: busybox
    command: ["sh", "-c", "cat /etc/tls/key; echo; trap 'exit 0' TERM; sleep 3600 & wait"]
    volumeMounts: [{name: tls, mountPath: /etc/tls, readOnly: true}]
  volumes: [{name: tls, secret: {secretName: tls}}]
""")
    pod = ns.wait_running("secret-reader")
    uid = pod["metadata"]["uid"]
    wait_for(lambda: ns.kubectl("logs", "secret-reader") == "topsecret\n", within=20, what="the secret")
    on_host = [line for line in _mounts_under(uid) if "kubernetes.io~secret" in line]
    assert on_host and all(" - tmpfs " in line for line in on_host), on_host
    ns.kubectl("delete", "pod", "secret-reader")
    assert [line for line in _mounts_under(uid) if "kubernetes.io~secret" in line] == []


def test_empty_dir_shared_by_two_containers_and_host_path_seen_on_the_host(
    ns: Namespace, tmp_path: Path
) -> None:
    host_dir = tmp_path / "hostdata"
    ns.apply(f"""
apiVersion: v1
kind: Pod
metadata: {{name: sharing}}
spec:
  restartPolicy: Never
  initContainers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "echo from-writer > /shared/note"]
    volumeMounts: [{{name: scratch, mountPath: /shared}}]
  containers:
  - name: reader
    image: busybox
    command: ["sh", "-c", "cat /shared/note; cat /shared/note > /host/copied"]
    volumeMounts:
    - {{name: scratch, mountPath: /shared}}
    - {{name: host, mountPath: /host}}
  volumes:
  - {{name: scratch, emptyDir: {{}}}}
  - {{name: host, hostPath: {{path: {host_dir}, type: DirectoryOrCreate}}}}
""")
    ns.wait_phase("sharing", "Succeeded")
    assert ns.kubectl("logs", "sharing", "-c", "reader") == "from-writer\n"
    assert (host_dir / "copied").read_text() == "from-writer\n"


def test_an_empty_dir_past_its_size_limit_gets_the_pod_evicted(ns: Namespace) -> None:
    ns.apply("""
apiVersion: v1
kind: Pod
metadata: {name: filler}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: fill
    image: busybox
    command: ["sh", "-c", "head -c 3000000 /dev/zero > /scratch/blob; sleep 3600"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {sizeLimit: 1Mi}}]
""")
    status = ns.wait_phase("filler", "Failed")["status"]
    assert status["reason"] == "Evicted"
    assert status["message"] == 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". '


def test_data_on_a_persistent_volume_survives_the_pod(ns: Namespace, tmp_path: Path) -> None:
    volume_dir, pv = tmp_path / "pv", f"pv-{ns.name}"
    ns.apply(f"""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
  volumeName: {pv}
  storageClassName: ""
""")
    claim_uid = ns.kubectl("get", "pvc", "data", "-o", "jsonpath={.metadata.uid}")
    ns.apply(f"""
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {pv}}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  hostPath: {{path: {volume_dir}, type: DirectoryOrCreate}}
  claimRef: {{namespace: {ns.name}, name: data, uid: {claim_uid}}}
""")
    # Until the PersistentVolume controller exists, the binding a controller would record is patched in.
    bound = {"status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}}
    ns.kubectl("patch", "pvc", "data", "--subresource=status", "--type=merge", "-p", json.dumps(bound))
    try:
        for run, command in enumerate(["echo kept > /data/file", "cat /data/file"]):
            name = f"user-{run}"
            ns.apply(f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "{command}"]
    volumeMounts: [{{name: d, mountPath: /data}}]
  volumes: [{{name: d, persistentVolumeClaim: {{claimName: data}}}}]
""")
            ns.wait_phase(name, "Succeeded")
            if run == 1:
                assert ns.kubectl("logs", name) == "kept\n"  # written by the deleted pod before it
            ns.kubectl("delete", "pod", name)
        assert (volume_dir / "file").read_text() == "kept\n"
    finally:
        ns.kubectl("delete", "pv", pv, "--wait=false", check=False)


def test_a_memory_hog_is_oom_killed(ns: Namespace) -> None:
    ns.apply("""
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: busybox
    command: ["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\\\0' a); echo survived"]
    resources: {limits: {memory: 32Mi}}
""")
    pod = ns.wait_phase("hog", "Failed")
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)
    assert "OOMKilled" in ns.kubectl("get", "pod", "hog")


def test_two_containers_cannot_bind_one_port(ns: Namespace) -> None:
    ns.apply("""
apiVersion: v1
kind: Pod
metadata: {name: clash}
spec:
  restartPolicy: Never
  containers:
  - {name: first, image: busybox, command: ["nc", "-l", "-p", "8080"]}
  - {name: second, image: busybox, command: ["sh", "-c", "sleep 1; exec nc -l -p 8080"]}
""")

    def second_failed() -> bool:
        statuses = {s["name"]: s for s in ns.pod("clash").get("status", {}).get("containerStatuses", [])}
        return "terminated" in statuses.get("second", {}).get("state", {})

    wait_for(second_failed, within=60, what="the second container to fail")
    statuses = {s["name"]: s for s in ns.pod("clash")["status"]["containerStatuses"]}
    assert statuses["second"]["state"]["terminated"]["exitCode"] != 0
    assert "Address already in use" in ns.kubectl("logs", "clash", "-c", "second")
    assert "running" in statuses["first"]["state"]


def test_a_killed_agent_adopts_its_running_pods_on_restart(tmp_path: Path) -> None:
    with server_in_netns(tmp_path) as cluster:
        _wait_ready(cluster)
        cluster.kubectl("create", "deployment", "sleepers", "--image=busybox", "--replicas=10",
                        "--", "sleep", "3600")
        wait_for(lambda: "10/10" in cluster.kubectl("get", "deploy", "sleepers").stdout,
                 within=90, what="10 running pods")
        before = _pods_by_name(cluster)

        cluster.process.kill()  # SIGKILL: no chance to clean anything up
        cluster.process.wait(timeout=10)
        restarted = _restart(cluster, tmp_path)
        _wait_ready(restarted)
        time.sleep(3)  # a few sync rounds of the restarted agent
        after = _pods_by_name(restarted)
        assert after.keys() == before.keys()
        for name, pod in after.items():
            status = pod["status"]["containerStatuses"][0]
            assert status["restartCount"] == 0, name
            assert status["containerID"] == before[name]["status"]["containerStatuses"][0]["containerID"]
            assert "running" in status["state"]
        restarted.process.kill()
        restarted.process.wait(timeout=10)


def _wait_ready(cluster: ServerProcess) -> None:
    wait_for(lambda: " Ready " in cluster.kubectl("get", "nodes", check=False).stdout, within=60, what="node")


def _pods_by_name(cluster: ServerProcess) -> dict[str, Any]:
    return {pod["metadata"]["name"]: pod for pod in cluster.kubectl_json("get", "pods")["items"]}


def _restart(cluster: ServerProcess, directory: Path) -> ServerProcess:
    """The same server again over the same data dir; `cluster` then kills the new process on exit."""
    restarted = start_server(directory, cluster.netns)
    cluster.process = restarted.process
    return restarted
