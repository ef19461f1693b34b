"""``--debug-port`` (issue 12): a function's worker starts under its runtime's debugger, waits for
it to attach, and runs without its timeout.

The Node.js test attaches with a small inspector client (``inspector_client.mjs``, on Node's own
WebSocket) the way VS Code's attach configuration does.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import urllib.request

import pytest

from conftest import FNHOST_BIN, REPO, wait_for

TEMPLATE = REPO / "Tests" / "Fixtures" / "templates" / "debug" / "template.yaml"
CLIENT = REPO / "Tests" / "compat" / "inspector_client.mjs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_websocket_flags() -> list[str]:
    node = shutil.which("node")
    probe = subprocess.run([node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"])
    return [] if probe.returncode == 0 else ["--experimental-websocket"]


def start_invoke(tmp_path, name, port):
    stderr = tmp_path / "invoke.stderr"
    with open(stderr, "wb") as err:
        process = subprocess.Popen(
            [str(FNHOST_BIN), "invoke", name, "--template", str(TEMPLATE), "--state-dir", str(tmp_path / "state"),
             "--debug-port", str(port)],
            stdout=subprocess.PIPE, stderr=err, cwd=str(REPO))
    return process, stderr


def inspector_target(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=1) as response:
            targets = json.loads(response.read())
    except OSError:
        return None
    return targets[0]["webSocketDebuggerUrl"] if targets else None


def test_node_waits_for_the_debugger_and_runs_past_its_timeout(tmp_path):
    port = free_port()
    process, stderr = start_invoke(tmp_path, "NodeSlow", port)
    try:
        wait_for(lambda: f"attach to 127.0.0.1:{port}" in stderr.read_text(), 30, what="the attach line")
        url = wait_for(lambda: inspector_target(port), 10, what="the inspector to listen")
        # --inspect-brk holds the runtime before its first line until a debugger attaches.
        assert process.poll() is None
        client = subprocess.run(["node", *node_websocket_flags(), str(CLIENT), url], capture_output=True, text=True,
                                timeout=60)
        assert "attached" in client.stdout and "paused" in client.stdout, client.stdout + client.stderr
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0, stderr.read_text()
        body = json.loads(out)
        # 1.5 s of work under a 1 s Timeout: the timeout is suspended while debugging.
        assert body["debugged"] is True
        assert f"--inspect-brk=127.0.0.1:{port}" in body["execArgv"]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)


def test_python_without_debugpy_is_refused_with_a_clear_message(tmp_path):
    python = "/root/.pyenv/versions/3.12.1/bin/python3.12"
    if subprocess.run([python, "-c", "import debugpy"], capture_output=True).returncode == 0:
        pytest.skip("debugpy is installed here; the missing-debugpy message cannot be shown")
    result = subprocess.run(
        [str(FNHOST_BIN), "invoke", "PythonSlow", "--template", str(TEMPLATE), "--state-dir", str(tmp_path),
         "--debug-port", str(free_port())], capture_output=True, text=True, timeout=60, cwd=str(REPO))
    assert result.returncode == 2
    assert "needs debugpy" in result.stderr and "pip install debugpy" in result.stderr


def test_custom_runtimes_and_half_given_options_are_refused(tmp_path):
    custom = subprocess.run(
        [str(FNHOST_BIN), "invoke", "Custom", "--template", str(TEMPLATE), "--state-dir", str(tmp_path),
         "--debug-port", "5858"], capture_output=True, text=True, timeout=60, cwd=str(REPO))
    assert custom.returncode == 2
    assert "has no debugger" in custom.stderr
    half = subprocess.run([str(FNHOST_BIN), "serve", "--template", str(TEMPLATE), "--debug", "NodeSlow"],
                          capture_output=True, text=True, timeout=60, cwd=str(REPO))
    assert half.returncode != 0
    assert "--debug and --debug-port go together" in half.stderr


def test_without_the_debugger_the_same_function_times_out(tmp_path):
    result = subprocess.run(
        [str(FNHOST_BIN), "invoke", "NodeSlow", "--template", str(TEMPLATE), "--state-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, cwd=str(REPO))
    assert result.returncode == 1
    assert json.loads(result.stdout)["errorType"] == "Sandbox.Timedout"


def test_serve_debugs_one_function_through_boto3(tmp_path):
    import threading

    from conftest import invoke_json, lambda_client, start_host

    port = free_port()
    host = start_host(TEMPLATE, tmp_path, "--debug", "NodeSlow", "--debug-port", str(port))
    try:
        assert f"attach to 127.0.0.1:{port}" in host.stderr()
        result = {}
        thread = threading.Thread(
            target=lambda: result.update(invoke_json(lambda_client(host.endpoint), "NodeSlow", {"via": "serve"})[1]))
        thread.start()
        url = wait_for(lambda: inspector_target(port), 30, what="the inspector of the served worker")
        client = subprocess.Popen(["node", *node_websocket_flags(), str(CLIENT), url], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        thread.join(timeout=30)
        assert result.get("debugged") is True, result
        assert result["event"] == {"via": "serve"}
        client.kill()
        client.wait(timeout=5)
    finally:
        assert host.terminate() == 0
