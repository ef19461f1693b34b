"""The short fuzz run (Tests/fuzz/fuzz.py, 500 requests per surface, seed 1): hostile requests on the
Invoke API, the control-plane APIs, the SQS JSON protocol and a worker's Runtime API never crash or
hang the host, never get a 5xx, leak no worker and do not grow the host's RSS by more than 20 MB.
The full run (10,000 per surface) is the documented command in Tests/fuzz/README.md."""

from __future__ import annotations

import json
import random
import socket
import sys
import threading

import pytest

from conftest import FNHOST_BIN, REPO

sys.path.insert(0, str(REPO / "Tests" / "fuzz"))

import fuzz  # noqa: E402
from rawhttp import exchange, http_request  # noqa: E402


def test_short_fuzz_run_finds_no_crash_hang_5xx_leak_or_growth(tmp_path):
    failures = tmp_path / "fuzz-failures.jsonl"
    summary = fuzz.run(fuzz.parse([
        "--requests", "500", "--seed", "1", "--fnhost", str(FNHOST_BIN),
        "--state-dir", str(tmp_path / "host"), "--failures", str(failures)]))
    for name in fuzz.SURFACES:
        surface = summary["surfaces"][name]
        # Every request was sent and judged (the Runtime API's through the hostile worker's reports).
        assert surface["sent"] + surface["unreported"] == 500, (name, surface)
    assert summary["ok"], (
        f"{summary['problems']}\nfirst offending requests (all in {failures}; "
        f"replay: python3 Tests/fuzz/fuzz.py --replay {failures}):\n"
        + json.dumps(summary.get("first_failures"), indent=1)[:6000])


def test_fuzzer_counts_a_hang_and_a_5xx_as_failures_and_a_close_as_none():
    """The judge itself: a server that never answers is a timeout, a 500 a failure, a close is not."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            request = connection.recv(65536)
            if b"/hang" in request:
                held.append(connection)
            elif b"/500" in request:
                connection.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}")
                connection.close()
            else:
                connection.close()

    threading.Thread(target=serve, daemon=True).start()
    port = listener.getsockname()[1]
    try:
        outcomes = {path: exchange("127.0.0.1", port, http_request("GET", path, [], b""), timeout=0.5)
                    for path in ("/hang", "/500", "/close")}
    finally:
        listener.close()
        for connection in held:
            connection.close()
    assert outcomes["/hang"].kind == "timeout" and fuzz.judge(outcomes["/hang"])
    assert outcomes["/500"].status == 500 and fuzz.judge(outcomes["/500"]) == "500 "
    assert outcomes["/close"].kind == "closed" and fuzz.judge(outcomes["/close"]) is None


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="fuzz finding (seed 1, sqs 1268/1519): one 3.8 MB SQS JSON body keeps "
                   "~65 MB of host RSS; the SQS request limit is 8 MiB where SQS allows 1 MiB")
def test_one_large_sqs_batch_body_does_not_grow_the_host_by_20_mb(tmp_path):
    host = fuzz.Host(FNHOST_BIN, tmp_path / "host").start()
    try:
        fuzz.warm_up(host, fuzz.parse(["--warm-up", "0"]), [])
        before = fuzz.rss_kb(host.process.pid)
        # The fuzz run's own request: ChangeMessageVisibilityBatch, 20,000 entries, an invalid QueueUrl.
        raw = fuzz.sqs_request(fuzz.Mutator(random.Random("1:sqs:1519")),
                               {"index": 1519, "port": host.port, "handles": fuzz.receipt_handles(host.port)})
        assert len(raw.data) > 3_000_000 and b"ChangeMessageVisibilityBatch" in raw.data
        outcome = exchange("127.0.0.1", host.port, raw.data, timeout=30)
        assert outcome.status is not None and 400 <= outcome.status < 500, (outcome.kind, outcome.status)
        growth = fuzz.rss_kb(host.process.pid) - before
        assert growth <= fuzz.RSS_GROWTH_LIMIT_KB, f"VmRSS grew by {growth} kB after one {len(raw.data)}-byte request"
    finally:
        assert host.stop() == 0
