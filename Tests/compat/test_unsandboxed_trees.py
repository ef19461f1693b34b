"""A worker's descendants that left its process group, with setsid() or a double fork, die when the
host stops the worker or is killed: with the full sandbox (as root) the launcher kills every process
of the worker's uid; without it (no uid of its own) the host and the launcher kill the launcher's
descendants."""

import signal
from pathlib import Path

import pytest

from conftest import REPO, invoke_json, lambda_client, pid_alive, start_host, wait_for

TEMPLATE = REPO / "Tests" / "Fixtures" / "sandbox" / "template.yaml"
MODES = {"default": {}, "unsandboxed": {"FNHOST_SANDBOX": "off"}}


@pytest.fixture(params=sorted(MODES))
def mode(request) -> str:
    return request.param


def _detached_descendants(host) -> list[int]:
    """A setsid() grandchild whose parent lives, and an orphan whose parent is gone."""
    client = lambda_client(host.endpoint)
    _, result = invoke_json(client, "Sandboxed", {"grandchild": True, "orphan": True})
    pids = [result["grandchild"], result["orphan"][0]]
    assert all(pid_alive(pid) for pid in pids), result
    return pids


def test_detached_descendants_die_when_the_host_stops_their_worker(tmp_path: Path, mode: str):
    host = start_host(TEMPLATE, tmp_path, env=MODES[mode])
    try:
        if mode == "unsandboxed":
            assert "FNHOST_SANDBOX=off" in host.stderr() + host.stdout()
        pids = _detached_descendants(host)
        assert host.terminate() == 0
        wait_for(lambda: not any(pid_alive(pid) for pid in pids), 5, what=f"{pids} to die with their worker")
    finally:
        host.kill_hard()


def test_detached_descendants_die_with_a_killed_host(tmp_path: Path, mode: str):
    host = start_host(TEMPLATE, tmp_path, env=MODES[mode])
    try:
        pids = _detached_descendants(host)
        host.process.send_signal(signal.SIGKILL)
        host.process.wait(timeout=5)
        wait_for(lambda: not any(pid_alive(pid) for pid in pids), 5, what=f"{pids} to die with the host")
    finally:
        host.kill_hard()
