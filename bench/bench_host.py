"""Shared by the Python benchmarks: the repository root, which fnhost binary to run, a host started
on port 0 with a fresh state directory, and nearest-rank percentiles."""

import contextlib
import http.client
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def default_fnhost() -> str:
    """`$FNHOST_BIN`, else the release build, else the debug build."""
    release = REPO / ".build" / "release" / "fnhost"
    chosen = os.environ.get("FNHOST_BIN", str(release))
    return chosen if Path(chosen).is_file() else str(REPO / ".build" / "debug" / "fnhost")


@contextlib.contextmanager
def running_host(fnhost: str, template: Path, prefix: str):
    """Yields `(port, state_dir)` of `fnhost serve` on `template`; stops it on exit. Output goes to a file."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    stdout = scratch / "host.stdout"
    with open(stdout, "wb") as out:
        host = subprocess.Popen([fnhost, "serve", "--template", str(template), "--port", "0",
                                 "--state-dir", str(scratch / "state")],
                                stdout=out, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while True:
            match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", stdout.read_text())
            if match:
                break
            if time.monotonic() > deadline or host.poll() is not None:
                raise SystemExit("fnhost did not start")
            time.sleep(0.05)
        yield int(match.group(1)), scratch / "state"
    finally:
        host.terminate()
        host.wait(timeout=15)


def percentile(values, p):
    """Nearest-rank percentile `p` (0–100) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def receive_and_delete(call, url: str, total: int) -> float:
    """Receives 10 at a time and deletes each batch until ``total`` messages are gone, through
    ``call(operation, body)`` (one SQS JSON request); returns the seconds it took."""
    drained = 0
    started = time.monotonic()
    while drained < total:
        messages = call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10}).get("Messages", [])
        if not messages:
            raise SystemExit(f"queue ran dry after {drained} of {total}")
        call("DeleteMessageBatch", {"QueueUrl": url, "Entries": [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]})
        drained += len(messages)
    return time.monotonic() - started



class HostClient:
    """One keep-alive connection to a host's serve port: raw requests, JSON-protocol calls (SQS,
    Kinesis) and ``/metrics`` samples of the ``CNoop`` function."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, body=None, headers=None) -> bytes:
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
        return data

    def call(self, target: str, content_type: str, body) -> dict:
        """``POST /`` with ``X-Amz-Target: target`` (e.g. ``AmazonSQS.SendMessage``); the JSON answer."""
        return json.loads(self.request("POST", "/", json.dumps(body), {
            "X-Amz-Target": target, "Content-Type": content_type}) or b"{}")

    def metric(self, name: str) -> float:
        """The ``CNoop`` sample of ``name`` in ``/metrics`` (0 when absent)."""
        text = self.request("GET", "/metrics").decode()
        match = re.search(rf'^{name}{{[^}}]*function_name="CNoop"[^}}]*}} ([0-9.e+]+)$', text, re.M)
        return float(match.group(1)) if match else 0.0
