"""The cold path's shortcuts keep the sandbox as it was: the seccomp policy compiled once per host
(`fnhost-launch --export-seccomp`, loaded with `--seccomp-program FD`) and standby launchers that
join their cgroups ahead and take their arguments and environment by order (`--standby FD`).
A launcher given a damaged program or order refuses to start; a host with cgroups starts its
cold workers from standby launchers, and they still run under the seccomp policy."""

import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import FNHOST_BIN, REPO, descendants, invoke_json, lambda_client, start_host, wait_for

LAUNCHER = FNHOST_BIN.parent / "fnhost-launch"
TEMPLATE = REPO / "Tests" / "Fixtures" / "sandbox" / "template.yaml"
LAUNCH_FAILURE = 121


def _export() -> bytes:
    result = subprocess.run([str(LAUNCHER), "--export-seccomp"], capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _program_file(tmp_path: Path, content: bytes) -> int:
    path = tmp_path / "program"
    path.write_bytes(content)
    return os.open(path, os.O_RDONLY)


def _launch(arguments: list[str], pass_fds=(), **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(LAUNCHER), *arguments], capture_output=True, text=True, timeout=30,
                          pass_fds=pass_fds, **kwargs)


def _order(arguments: list[str], environment: dict[str, str]) -> bytes:
    strings = [a.encode() + b"\0" for a in arguments] + [b"\0"]
    strings += [f"{k}={v}".encode() + b"\0" for k, v in environment.items()] + [b"\0"]
    return b"".join(strings)


def test_the_exported_policy_is_the_same_each_time_and_well_formed():
    first, second = _export(), _export()
    assert first == second
    assert first[:8] == b"FNSECC01"
    counts = int.from_bytes(first[8:12], "little"), int.from_bytes(first[12:16], "little")
    assert all(counts) and len(first) == 16 + 8 * sum(counts)


def test_a_loaded_program_filters_as_the_compiled_policy_does(tmp_path: Path):
    descriptor = _program_file(tmp_path, _export())
    probe = "grep Seccomp_filters /proc/self/status; unshare -m true 2>&1 | tail -1"
    loaded = _launch(["--chdir", "/", "--seccomp-program", str(descriptor), "--", "/bin/sh", "-c", probe],
                     pass_fds=(descriptor,))
    compiled = _launch(["--chdir", "/", "--seccomp", "--", "/bin/sh", "-c", probe])
    assert loaded.returncode == 0, loaded.stderr
    assert "Seccomp_filters:\t2" in loaded.stdout
    assert "Operation not permitted" in loaded.stdout
    assert loaded.stdout == compiled.stdout


def test_a_damaged_program_stops_the_launch(tmp_path: Path):
    program = _export()
    for content, message in ((program[:-3], "damaged"), (b"not a program at all", "no seccomp program"), (b"", "no seccomp program")):
        descriptor = _program_file(tmp_path, content)
        result = _launch(["--chdir", "/", "--seccomp-program", str(descriptor), "--", "/bin/true"], pass_fds=(descriptor,))
        os.close(descriptor)
        assert result.returncode == LAUNCH_FAILURE
        assert message in result.stderr, result.stderr


def _standby(order: bytes | None, close: bool = True) -> subprocess.CompletedProcess:
    host_end, launcher_end = socket.socketpair()
    process = subprocess.Popen([str(LAUNCHER), "--standby", str(launcher_end.fileno())], pass_fds=(launcher_end.fileno(),),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={})
    launcher_end.close()
    if order is not None:
        host_end.sendall(order)
    host_end.close()
    output, _ = process.communicate(timeout=30)
    return subprocess.CompletedProcess(process.args, process.returncode, output.decode(), "")


def test_a_standby_launcher_runs_its_order_with_the_orders_environment():
    result = _standby(_order(["--chdir", "/", "--seccomp", "--", "/bin/sh", "-c", "echo $GREETING; pwd"],
                             {"GREETING": "hello from the order", "PATH": "/usr/bin:/bin"}))
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines() == ["hello from the order", "/"]


def test_a_standby_launcher_without_an_order_runs_nothing():
    result = _standby(None)
    assert result.returncode == 0
    assert result.stdout == ""


def test_a_damaged_order_stops_the_launch():
    incomplete = _standby(b"--chdir\0/\0--\0/bin/true\0")
    assert incomplete.returncode == LAUNCH_FAILURE and "incomplete" in incomplete.stdout
    trailing = _standby(_order(["--chdir", "/", "--", "/bin/true"], {}) + b"extra\0")
    assert trailing.returncode == LAUNCH_FAILURE and "after its environment" in trailing.stdout
    unknown = _standby(_order(["--no-such-option", "--", "/bin/true"], {}))
    assert unknown.returncode == LAUNCH_FAILURE and "unknown argument" in unknown.stdout


def _launchers(host_pid: int) -> dict[int, str]:
    found = {}
    for pid in descendants(host_pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"fnhost-launch"):
            found[pid] = " ".join(a.decode() for a in argv if a)
    return found


def _loop_controls_held(pid: int) -> int:
    held = 0
    for entry in os.listdir(f"/proc/{pid}/fd"):
        try:
            held += os.readlink(f"/proc/{pid}/fd/{entry}") == "/dev/loop-control"
        except OSError:
            pass
    return held


def test_cold_starts_take_standby_launchers_that_run_under_the_policy(tmp_path: Path):
    """As root (cgroups writable), every cold start takes a launcher waiting in its cgroups and
    one takes its place; without them the host would spawn each launcher and this fails."""
    if os.geteuid() != 0:
        import pytest
        pytest.skip("standby launchers need writable cgroups (root)")
    host = start_host(TEMPLATE, tmp_path)
    try:
        waiting = {pid for pid, argv in _launchers(host.process.pid).items() if "--standby" in argv}
        assert waiting, _launchers(host.process.pid)
        for pid in waiting:
            # Its output, the lifeline, its order's socket and its function process's, and the mount
            # namespaces it holds on purpose: no other worker's pipe or socket that it could keep open.
            held = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            assert len({fd for fd in held if fd.startswith("pipe:")}) <= 2, held
            assert len([fd for fd in held if fd.startswith("socket:")]) <= 2, held
        client = lambda_client(host.endpoint)
        _, result = invoke_json(client, "Sandboxed", {"read": "/proc/self/status"})
        assert "Seccomp_filters:\t2" in result["read"], result
        launchers = _launchers(host.process.pid)
        # The worker's launcher is one that was waiting (its argv still says so), and a new one waits.
        busy = {pid for pid in waiting if pid in launchers and descendants(pid)}
        assert busy, (waiting, launchers)
        assert {pid for pid, argv in launchers.items() if "--standby" in argv and pid not in waiting}
        # Each worker's /tmp volume attached a loop device through /dev/loop-control; the host
        # closes it once the volume is mounted (it kept one per worker, 1,000 in a burst).
        wait_for(lambda: _loop_controls_held(host.process.pid) == 0, timeout=10, what="no /dev/loop-control held")
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def _mount_points(pid: int) -> list[str]:
    return [line.split()[4] for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()]


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in lines if ":" in line}


def test_a_standby_launcher_waits_in_a_fresh_root_without_the_hosts_mounts(tmp_path: Path):
    """A standby builds the root every function gets before its order (`--fresh-root`): it waits
    pivoted into it, with the host's system directories, /proc and /dev and nothing else mounted,
    so it holds no copy of the host's mounts (the state directory, /sys, the checkout) however
    long it waits; its order then attaches the function's code at /var/task. Its function process
    waits beside it already restricted (the worker's uid, no_new_privs, both seccomp filters),
    holding only its output and the socket its program comes through."""
    if os.geteuid() != 0:
        import pytest
        pytest.skip("standby launchers need writable cgroups (root)")
    host = start_host(TEMPLATE, tmp_path)
    try:
        # The host's children only: a standby's function process is a copy of it, argv and all.
        waiting = [pid for pid, argv in _launchers(host.process.pid).items()
                   if "--fresh-root" in argv and _parent(pid) == host.process.pid]
        assert waiting, _launchers(host.process.pid)
        system = ("/usr", "/bin", "/sbin", "/lib", "/etc", "/proc", "/dev")

        def function_process(pid: int) -> list[int]:
            return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

        # A standby forks its function process once its root is built.
        wait_for(lambda: all(function_process(pid) for pid in waiting), timeout=10, what="standbys ready")
        for pid in waiting:
            points = _mount_points(pid)
            assert "/" in points and "/proc" in points and "/dev/null" in points, points
            assert all(point == "/" or point.startswith(system) for point in points), points
            assert not os.path.exists(f"/proc/{pid}/root/var/task"), os.listdir(f"/proc/{pid}/root")
            (function,) = function_process(pid)
            status = _status(function)
            assert status["Uid"].split() == [str(2_000_000_000 + pid)] * 4, status
            assert status["NoNewPrivs"] == "1" and status["Seccomp_filters"] == "2", status
            held = sorted(int(fd) for fd in os.listdir(f"/proc/{function}/fd"))
            assert held[:3] == [0, 1, 2] and len(held) == 4, held
            assert os.readlink(f"/proc/{function}/fd/{held[3]}").startswith("socket:"), held
        client = lambda_client(host.endpoint)
        _, result = invoke_json(client, "Sandboxed", {"read": "/proc/self/mounts"})
        mounted = [line.split()[1] for line in result["read"].splitlines()]
        assert "/var/task" in mounted and "/tmp" in mounted and "/var/runtime" in mounted, result["read"]
        assert not any(point.startswith(("/sys", str(REPO), str(tmp_path))) for point in mounted), result["read"]
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_cold_starts_without_a_standby_launcher_get_a_disk_tmp_of_their_own(tmp_path: Path):
    """Five cold starts at once on a host that keeps no standby launchers (RSS polling: no cgroups to
    wait in), so every launcher is spawned with its /tmp volume's descriptor inherited
    (`--tmp-mount FD`); each worker attaches an ext4 volume of its own. (With standbys, whether a
    start finds one refilled depends on timing.)"""
    if os.geteuid() != 0:
        import pytest
        pytest.skip("/tmp volumes need root")
    host = start_host(TEMPLATE, tmp_path, "--memory-enforcement", "rss")
    try:
        client = lambda_client(host.endpoint)
        probe = {"uid": True, "read": "/proc/self/mounts", "write": ["/tmp/mine", "x"], "sleep": 2}
        with ThreadPoolExecutor(5) as pool:
            calls = [pool.submit(invoke_json, client, "Sandboxed", probe) for _ in range(5)]
            wait_for(lambda: any("--tmp-mount" in argv and "--standby" not in argv
                                 for argv in _launchers(host.process.pid).values()),
                     timeout=10, what="a launcher spawned with a /tmp volume")
            results = [call.result()[1] for call in calls]
        assert len({tuple(result["uid"]) for result in results}) == 5, results
        for result in results:
            assert result["write"] == "ok", result
            tmp = [line.split() for line in result["read"].splitlines() if line.split()[1:2] == ["/tmp"]]
            assert tmp and tmp[0][2] == "ext4", result["read"]
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]
