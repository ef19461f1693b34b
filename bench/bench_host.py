"""Shared by the Python benchmarks: the repository root, which fnhost binary to run, a host started
on port 0 with a fresh state directory, and nearest-rank percentiles."""

import contextlib
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

