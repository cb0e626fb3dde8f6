"""kubectl logs through the API server from the agent's CRI-format log files."""

from __future__ import annotations

import subprocess
import time

from tests.integration.agent.server.conftest import Node

_LOG = (
    "2026-01-01T10:00:00.000000001Z stdout F one\n"
    "2026-01-01T10:00:01.000000002Z stderr F two\n"
    "2026-01-01T10:00:02.000000003Z stdout P thr\n"
    "2026-01-01T10:00:02.100000000Z stdout F ee\n"
    "2026-01-01T10:00:03.000000004Z stdout F four\n"
)


def test_logs_tail_timestamps_since_and_previous(node: Node) -> None:
    uid = node.add_pod("logged")
    node.log_path("logged", uid, "main").write_text(_LOG)
    kubectl = node.server.kubectl
    assert kubectl("logs", "logged").stdout == "one\ntwo\nthree\nfour\n"
    assert kubectl("logs", "logged", "--tail=2").stdout == "three\nfour\n"
    stamped = kubectl("logs", "logged", "--tail=1", "--timestamps").stdout
    assert stamped == "2026-01-01T10:00:03.000000004Z four\n"
    assert kubectl("logs", "logged", "--since-time=2026-01-01T10:00:01Z").stdout == "two\nthree\nfour\n"
    assert kubectl("logs", "logged", "--limit-bytes=6").stdout == "one\ntw"
    previous = kubectl("logs", "logged", "--previous", check=False)
    assert 'previous terminated container "main" in pod "logged" not found' in previous.stderr
    node.exit(node.runtime.states[f"{uid}_main_0"], 1)
    node.start("logged", uid, "main", 1)
    node.log_path("logged", uid, "main", 1).write_text("2026-01-01T11:00:00Z stdout F restarted\n")
    assert kubectl("logs", "logged").stdout == "restarted\n"
    assert kubectl("logs", "logged", "--previous", "--tail=1").stdout == "four\n"


def test_logs_follow_until_the_container_exits(node: Node) -> None:
    uid = node.add_pod("follow")
    state = node.runtime.states[f"{uid}_main_0"]
    path = node.log_path("follow", uid, "main")
    path.write_text("2026-01-01T10:00:00Z stdout F first\n")
    proc = node.server.kubectl_popen("logs", "-f", "follow")
    try:
        time.sleep(1)
        with path.open("a") as f:
            f.write("2026-01-01T10:00:01Z stdout F second\n")
        time.sleep(0.5)
        path.rename(path.with_suffix(".1"))  # rotation, as the monitor does it
        path.write_text("2026-01-01T10:00:02Z stdout F third\n")
        time.sleep(0.5)
        node.exit(state)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert out == "first\nsecond\nthird\n" and proc.returncode == 0


def _agent_connections(node: Node) -> int:
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{node.agent.port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(out.splitlines())


def test_a_follower_leaving_closes_the_agent_stream(node: Node) -> None:
    uid = node.add_pod("quiet")
    node.log_path("quiet", uid, "main").write_text("2026-01-01T10:00:00Z stdout F only\n")
    proc = node.server.kubectl_popen("logs", "-f", "quiet")
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "only\n"
        assert _agent_connections(node) == 1
    finally:
        proc.kill()
        proc.communicate()
    deadline = time.monotonic() + 10
    while _agent_connections(node) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _agent_connections(node) == 0
