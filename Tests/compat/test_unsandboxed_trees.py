"""Without the full sandbox (no uid of its own, so no sentinel), a worker's descendants that left
its process group with setsid() still die when the host stops the worker or is killed."""

import signal
from pathlib import Path

from conftest import REPO, invoke_json, lambda_client, pid_alive, start_host, wait_for

TEMPLATE = REPO / "Tests" / "Fixtures" / "sandbox" / "template.yaml"
UNSANDBOXED = {"FNHOST_SANDBOX": "off"}


def _detached_grandchild(host) -> int:
    client = lambda_client(host.endpoint)
    _, result = invoke_json(client, "Sandboxed", {"grandchild": True})
    pid = result["grandchild"]
    assert pid_alive(pid)
    return pid


def test_a_setsid_grandchild_dies_when_the_host_stops_its_worker(tmp_path: Path):
    host = start_host(TEMPLATE, tmp_path, env=UNSANDBOXED)
    try:
        assert "FNHOST_SANDBOX=off" in host.stderr() + host.stdout()
        grandchild = _detached_grandchild(host)
        assert host.terminate() == 0
        wait_for(lambda: not pid_alive(grandchild), 5, what=f"grandchild {grandchild} to die with its worker")
    finally:
        host.kill_hard()


def test_a_setsid_grandchild_dies_with_a_killed_host(tmp_path: Path):
    host = start_host(TEMPLATE, tmp_path, env=UNSANDBOXED)
    try:
        grandchild = _detached_grandchild(host)
        host.process.send_signal(signal.SIGKILL)
        host.process.wait(timeout=5)
        wait_for(lambda: not pid_alive(grandchild), 5, what=f"grandchild {grandchild} to die with the host")
    finally:
        host.kill_hard()
