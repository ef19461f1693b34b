"""The short fuzz run (Tests/fuzz/fuzz.py, 500 requests per surface, seed 1): hostile requests on the
Invoke API, the control-plane APIs, the SQS and Kinesis JSON protocols and a worker's Runtime API never crash or
hang the host, never get a 5xx, leak no worker and do not grow the host's RSS by more than 20 MB.
The full run (10,000 per surface) is the documented command in Tests/fuzz/README.md."""

from __future__ import annotations

import json
import random
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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


def test_six_large_sqs_batch_bodies_do_not_grow_the_host_by_20_mb(tmp_path):
    """The full fuzz run's RSS finding, reduced: six concurrent copies of one 3.8 MB request. Parsed,
    each left 20-70 MB of RSS behind; over the SQS request limit now, they are refused unparsed."""
    host = fuzz.Host(FNHOST_BIN, tmp_path / "host").start()
    try:
        fuzz.warm_up(host, fuzz.parse(["--warm-up", "0"]), [])
        # The fuzz run's own request: ChangeMessageVisibilityBatch, 20,000 entries, an invalid QueueUrl.
        raw = fuzz.sqs_request(fuzz.Mutator(random.Random("1:sqs:1519")),
                               {"index": 1519, "port": host.port, "handles": fuzz.receipt_handles(host.port)})
        if len(raw.data) < 3_000_000 or b"ChangeMessageVisibilityBatch" not in raw.data:
            pytest.fail("the fuzzer no longer generates the 3.8 MB request: rebuild this reproducer")
        before = fuzz.rss_kb(host.process.pid)
        with ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(lambda _: exchange("127.0.0.1", host.port, raw.data, timeout=60), range(6)))
        if not all(o.status is not None and 400 <= o.status < 500 for o in outcomes):
            pytest.fail(f"expected six 4xx, got {[(o.kind, o.status) for o in outcomes]}")
        growth = fuzz.rss_kb(host.process.pid) - before
        assert growth <= fuzz.RSS_GROWTH_LIMIT_KB, f"VmRSS grew by {growth} kB after six {len(raw.data)}-byte requests"
    finally:
        status = host.stop()
    if status != 0:
        pytest.fail(f"the host exited with {status} after SIGTERM")


def test_concurrent_metrics_scrapes_leave_the_host_answering(tmp_path):
    # Fuzz finding (control surface): a synchronous SQLite read per scrape held every task thread of
    # a 2-core host and deadlocked it; /metrics now reads asynchronously.
    host = fuzz.Host(FNHOST_BIN, tmp_path / "host").start()
    try:
        deadline = time.monotonic() + 15

        def scrape(_):
            while time.monotonic() < deadline:
                exchange("127.0.0.1", host.port, http_request("GET", "/metrics", [], b""), timeout=5)

        with ThreadPoolExecutor(6) as pool:
            list(pool.map(scrape, range(6)))
        assert fuzz.responsive(host.port), "the host stopped answering after concurrent GET /metrics"
    finally:
        host.process.kill()
        host.process.wait(timeout=10)
