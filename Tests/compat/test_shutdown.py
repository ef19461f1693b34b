"""Host shutdown: SIGTERM stops every worker; a host killed with SIGKILL leaves no orphaned workers."""

import glob
import os
import signal
import subprocess
import threading

from conftest import FIXTURE_TEMPLATE, descendants, invoke_json, lambda_client, pid_alive, start_host, wait_for


def warm_workers(client, name: str, count: int) -> set[int]:
    """Runs ``count`` overlapping invokes so that ``count`` workers start; returns their pids."""
    pids, errors = [], []

    def run():
        try:
            response, body = invoke_json(client, name, {"sleep": 0.5, "pid": True})
            assert "FunctionError" not in response, body
            pids.append(body["pid"])
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors, errors
    return set(pids)


def test_sigterm_stops_every_worker(tmp_path):
    host = start_host(FIXTURE_TEMPLATE, tmp_path)
    try:
        client = lambda_client(host.endpoint)
        pids = warm_workers(client, "Instructed", 2)
        _, node = invoke_json(client, "NodeCommonJS", {})
        assert node["name"] == "NodeCommonJS"
        assert len(pids) == 2
        assert all(pid_alive(pid) for pid in pids)
        tree = descendants(host.process.pid)
        assert pids <= tree, (pids, tree)
        status = host.terminate(timeout=10)
        assert status == 0, host.stderr()[-2000:]
        # Each launcher kills and reaps its worker, then exits; the kernel may need a moment to finish them off.
        wait_for(lambda: not any(pid_alive(pid) for pid in pids | tree), 2,
                 what=f"processes {sorted(pids | tree)} of the host to be gone after it exited")
    finally:
        host.kill_hard()


def test_sigterm_during_an_invoke(tmp_path):
    host = start_host(FIXTURE_TEMPLATE, tmp_path)
    try:
        client = lambda_client(host.endpoint)
        _, body = invoke_json(client, "Instructed", {"pid": True})
        pid = body["pid"]
        starts = host.log_text("Instructed").count("START RequestId")
        outcome = {}

        def long_invoke():
            try:
                outcome["response"] = invoke_json(client, "Instructed", {"sleep": 1.5})
            except Exception as error:  # noqa: BLE001 - any answer or a dropped connection is acceptable
                outcome["error"] = error

        thread = threading.Thread(target=long_invoke)
        thread.start()
        wait_for(lambda: host.log_text("Instructed").count("START RequestId") > starts,
                 5, what="the long invoke to start")
        status = host.terminate(timeout=10)
        thread.join(timeout=15)
        assert status == 0, host.stderr()[-2000:]
        assert not thread.is_alive()
        wait_for(lambda: not pid_alive(pid), 2, what=f"worker {pid} to be gone after the host exited")
    finally:
        host.kill_hard()


def scratch_mounts(pid: int | str, state: str) -> list[str]:
    """Mount points of the workers' /tmp volumes under ``state`` in the mount namespace of ``pid``."""
    with open(f"/proc/{pid}/mountinfo") as mounts:
        return [line.split()[4] for line in mounts if line.split()[4].startswith(f"{state}/scratch/")]


def loop_devices_backed_by(state: str) -> list[str]:
    backing = []
    for path in glob.glob("/sys/block/loop*/loop/backing_file"):
        with open(path) as file:
            if file.read().strip().startswith(f"{state}/scratch/"):
                backing.append(path)
    return backing


def test_sigkill_of_the_host_leaves_no_workers(tmp_path):
    host = start_host(FIXTURE_TEMPLATE, tmp_path)
    try:
        client = lambda_client(host.endpoint)
        pids = warm_workers(client, "Instructed", 2)
        _, body = invoke_json(client, "NodeCommonJS", {})
        assert len(pids) == 2 and all(pid_alive(pid) for pid in pids)
        tree = descendants(host.process.pid)
        assert pids <= tree, (pids, tree)
        state = str(tmp_path / "state")
        if os.geteuid() == 0:
            # The workers' /tmp volumes are loop devices whose images have no name left, mounted in
            # the workers' own namespaces only: neither the host's nor the machine's holds one.
            assert loop_devices_backed_by(state), "the host made no /tmp volumes"
            assert not scratch_mounts(host.process.pid, state), "volumes mounted in the host's namespace"
            assert not scratch_mounts("self", state), "volumes mounted in the machine's namespace"
            assert not glob.glob(f"{state}/scratch/[0-9]*.img"), "volume images still named"
        os.kill(host.process.pid, signal.SIGKILL)
        host.process.wait(timeout=5)
        wait_for(lambda: not any(pid_alive(pid) for pid in pids | tree), 5,
                 what=f"processes {sorted(pids | tree)} to go away after the host was killed")
        # ...so they vanish with it: no loop device is left holding one of its images.
        wait_for(lambda: not loop_devices_backed_by(state), 10, what="the /tmp volumes' loop devices to be freed")
    finally:
        host.kill_hard()
