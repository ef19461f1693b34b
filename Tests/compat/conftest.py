"""Compatibility suite: the real AWS clients (boto3, aws CLI v1, awslambdaric) against a real fnhost.

What it does
    Starts ``fnhost serve --port 0`` twice for the whole session: once on the example template
    ``functions/template.yaml`` and once on the fixture template ``Tests/Fixtures/compat/template.yaml``
    (the instructed Python fixture, the Node fixtures, a Python function whose module fails to import,
    and a provided.al2023 bootstrap that exits 3 at once).  The port is read from the ready line
    ``fnhost listening on http://127.0.0.1:PORT (N functions)``; the host's stdout goes to a file in
    its state directory, which is polled with a deadline.  At the end of the session each host gets
    SIGTERM and must exit with status 0 within 10 s.  Shutdown and crash tests start hosts of their own.

Running
    /root/.pyenv/versions/3.11.7/bin/python3 -m pytest Tests/compat -q

    Needs the built host (``swift build``) and the compiled examples (``scripts/build-functions debug``).
    ``FNHOST_BIN`` overrides the host binary (default ``<repo>/.build/debug/fnhost``).  boto3, the aws
    CLI v1 (``aws`` on PATH) and awslambdaric must be installed.

Rules kept by every test
    Every wait is a poll with a bounded deadline (``wait_for``), never a fixed sleep for an outcome.
    Tests that depend on which worker answers (pids) use functions no other test invokes.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import textwrap
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
FNHOST_BIN = Path(os.environ.get("FNHOST_BIN", REPO / ".build" / "debug" / "fnhost"))
EXAMPLE_TEMPLATE = REPO / "functions" / "template.yaml"
FIXTURE_TEMPLATE = REPO / "Tests" / "Fixtures" / "compat" / "template.yaml"

ACCOUNT = "123456789012"
REGION = "us-east-1"
ARN_PREFIX = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"

READY_RE = re.compile(r"^fnhost listening on (http://127\.0\.0\.1:(\d+)) \((\d+) functions?\)$", re.M)

EXAMPLE_FUNCTIONS = [
    "PythonHello", "NodeHello", "ShellCurl", "CNoop", "SwiftHello", "PythonRic", "Slow", "AlwaysFails",
]
FIXTURE_FUNCTIONS = [
    "Instructed", "InstructedPids", "InstructedConcurrent", "InstructedCrash",
    "BrokenImport", "ExitsAtInit", "NodeCommonJS", "NodeEsm", "NodeCallback", "NodeCustomError",
]


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.05, what: str = "condition"):
    """Polls ``predicate`` until it returns something truthy (returned) or ``timeout`` seconds pass (fails)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class _NothingThere(BaseHTTPRequestHandler):
    """Answers every AWS JSON-protocol call as a service that has no such queue or stream."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"__type": "ResourceNotFoundException", "message": "fnhost tests: no such resource"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@cache
def empty_aws_endpoint() -> str:
    """A loopback stand-in for the real AWS that has no queues or streams (started once per session).

    Test hosts read a queue or stream they lack (named by a template or the mapping API) from the
    real service at ``AWS_ENDPOINT_URL``; pointing it here keeps every test on loopback and makes
    "no such source" answers immediate. test_external_sources points hosts at moto_server instead.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NothingThere)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live (non-zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state is the field after the parenthesised command name.
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return {p for p in found if pid_alive(p)}


@dataclass
class Host:
    """One ``fnhost serve`` process."""

    template: Path
    state_dir: Path
    process: subprocess.Popen | None = None
    endpoint: str = ""
    port: int = 0
    function_count: int = 0
    extra_args: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    _stdout_path: Path = field(init=False)
    _stderr_path: Path = field(init=False)

    def start(self, ready_timeout: float = 30.0) -> "Host":
        assert FNHOST_BIN.is_file(), f"{FNHOST_BIN} is missing: run `swift build` (or set FNHOST_BIN)"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._stdout_path = self.state_dir / "host.stdout"
        self._stderr_path = self.state_dir / "host.stderr"
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION=REGION,
                   AWS_ENDPOINT_URL=empty_aws_endpoint(), FNHOST_TEST_LEAK="must-not-reach-functions")
        env.update(self.extra_env)
        with open(self._stdout_path, "wb") as out, open(self._stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [str(FNHOST_BIN), "serve", "--template", str(self.template), "--port", "0",
                 "--state-dir", str(self.state_dir / "state"), *self.extra_args],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=str(REPO), env=env,
            )

        def ready():
            match = READY_RE.search(self.stdout())
            if match:
                return match
            if self.process.poll() is not None:
                raise AssertionError(
                    f"fnhost exited with {self.process.returncode} before it was ready:\n"
                    f"{self.stdout()}\n{self.stderr()}")
            return None

        match = wait_for(ready, ready_timeout, what=f"the ready line of fnhost on {self.template}")
        self.endpoint, self.port, self.function_count = match.group(1), int(match.group(2)), int(match.group(3))
        return self

    def stdout(self) -> str:
        return self._stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self._stderr_path.read_text(errors="replace")

    def log_file(self, logical_id: str) -> Path:
        return self.state_dir / "state" / "logs" / f"{logical_id}.log"

    def log_text(self, logical_id: str) -> str:
        path = self.log_file(logical_id)
        return path.read_text(errors="replace") if path.exists() else ""

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM; returns the exit status (fails if the host is still running after ``timeout``)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise AssertionError(f"fnhost did not exit within {timeout} s of SIGTERM")

    def kill_hard(self):
        """Last-resort cleanup of a host a test left running."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


RECORDER = REPO / "Tests" / "Fixtures" / "functions" / "recorder"


def recorder_template(functions: dict[str, str | None]) -> str:
    """A SAM template of functions that record every event they get (``Tests/Fixtures/functions/recorder``):
    each name maps to the YAML of its ``Events`` (as written under ``Events:``), or None for none."""
    resources = ""
    for name, events in functions.items():
        resources += (f"  {name}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: {RECORDER}/\n"
                      "      Handler: app.handler\n      Runtime: python3.12\n")
        if events:
            resources += "      Events:\n" + textwrap.indent(textwrap.dedent(events).strip("\n"), " " * 8) + "\n"
    return 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\nResources:\n' + resources


def lambda_client(endpoint: str):
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, read_timeout=30, connect_timeout=5, max_pool_connections=16),
    )


def start_host(template: Path, state_dir: Path, *extra_args: str, env: dict[str, str] | None = None) -> Host:
    """Starts ``fnhost serve`` on ``template``; ``extra_args`` are more ``serve`` flags, ``env`` more variables."""
    return Host(template=template, state_dir=state_dir, extra_args=tuple(extra_args), extra_env=env or {}).start()


def _session_host(tmp_path_factory, template: Path, name: str):
    host = start_host(template, tmp_path_factory.mktemp(name))
    try:
        yield host
    finally:
        status = host.terminate(timeout=10)
        assert status == 0, f"fnhost ({template.name}) exited with {status} after SIGTERM:\n{host.stderr()[-2000:]}"


@pytest.fixture(scope="session")
def example_host(tmp_path_factory):
    """fnhost serving functions/template.yaml."""
    yield from _session_host(tmp_path_factory, EXAMPLE_TEMPLATE, "example-host")


@pytest.fixture(scope="session")
def fixture_host(tmp_path_factory):
    """fnhost serving Tests/Fixtures/compat/template.yaml."""
    yield from _session_host(tmp_path_factory, FIXTURE_TEMPLATE, "fixture-host")


@pytest.fixture(scope="session")
def example_lambda(example_host):
    return lambda_client(example_host.endpoint)


@pytest.fixture(scope="session")
def fixture_lambda(fixture_host):
    return lambda_client(fixture_host.endpoint)


@pytest.fixture(scope="session")
def aws_cli():
    """Runs ``aws --endpoint-url ENDPOINT lambda ARGS...``; returns the CompletedProcess."""
    aws = shutil.which("aws")
    assert aws, "the aws CLI (v1) is not on PATH"
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("AWS_"):
            del env[key]
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION=REGION,
               AWS_DEFAULT_REGION=REGION, AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_MAX_ATTEMPTS="1")

    def run(endpoint: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [aws, "--endpoint-url", endpoint, "lambda", *args, "--cli-read-timeout", "30"],
            env=env, capture_output=True, text=True, timeout=timeout,
        )

    return run


def invoke_json(client, name: str, event=None, **kwargs):
    """boto3 invoke; returns (response, decoded JSON payload)."""
    if event is not None:
        kwargs["Payload"] = json.dumps(event).encode()
    response = client.invoke(FunctionName=name, **kwargs)
    body = response["Payload"].read()
    response["_body"] = body
    return response, (json.loads(body) if body else None)


def decode_log_result(response) -> str:
    return base64.b64decode(response["LogResult"]).decode("utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """moto_server on a free loopback port (SQS, Kinesis, DynamoDB and DynamoDB Streams on one port),
    one per test module; yields its endpoint."""
    port = free_port()
    command = [shutil.which("moto_server")] if shutil.which("moto_server") else [sys.executable, "-m", "moto.server"]
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(command + ["-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out)
    endpoint = f"http://127.0.0.1:{port}"

    def up():
        try:
            with urllib.request.urlopen(endpoint + "/moto-api/", timeout=2):
                return True
        except OSError:
            assert server.poll() is None, log.read_text()
            return False

    try:
        wait_for(up, 30, interval=0.1, what="moto_server to answer")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def aws_client(service: str, endpoint: str, region: str = REGION):
    """A boto3 client of ``service`` at ``endpoint`` (moto_server) with throwaway credentials."""
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="moto", aws_secret_access_key="moto")
