#!/usr/bin/env python3
"""Durable async queue benchmark: Event enqueue rate (and p50/p99 of the 202) and drain rate.

A benchmark, not a test: prints JSON, never passes or fails.  Starts ``fnhost serve`` on
functions/template.yaml with a fresh state directory, sends ``--count`` Event invokes of ``{}`` to
``CNoop`` (the C no-op) sequentially on one keep-alive connection, timing each 202 (each is a
committed SQLite row), then waits until every event has run (``END RequestId`` lines in
CNoop's log).  ``enqueue`` runs while the dispatcher drains; ``drain_after_enqueue_s`` is what was
left once the last 202 came back.

    python3 bench/async_queue.py [--count 2000] [--fnhost .build/release/fnhost]

Needs the C no-op built (``scripts/build-functions release`` or ``debug``).
"""

import argparse
import http.client
import json
import time

from bench_host import REPO, default_fnhost, percentile, running_host


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--fnhost", default=default_fnhost())
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    with running_host(args.fnhost, REPO / "functions" / "template.yaml", "fnhost-async-bench-") as (port, state_dir):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        path = "/2015-03-31/functions/CNoop/invocations"
        headers = {"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"}
        latencies = []
        start = time.monotonic()
        for _ in range(args.count):
            sent = time.monotonic()
            connection.request("POST", path, body=b"{}", headers=headers)
            response = connection.getresponse()
            response.read()
            latencies.append(time.monotonic() - sent)
            assert response.status == 202, response.status
        enqueued = time.monotonic()
        log = state_dir / "logs" / "CNoop.log"
        deadline = enqueued + args.timeout
        while True:
            done = log.read_text(errors="replace").count("END RequestId") if log.exists() else 0
            if done >= args.count or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        drained = time.monotonic()
        print(json.dumps({
            "fnhost": args.fnhost,
            "count": args.count,
            "completed": done,
            "enqueue": {
                "events_per_s": round(args.count / (enqueued - start), 1),
                "p50_ms": round(percentile(latencies, 50) * 1000, 3),
                "p99_ms": round(percentile(latencies, 99) * 1000, 3),
                "max_ms": round(max(latencies) * 1000, 3),
            },
            "drain": {
                "events_per_s": round(done / (drained - start), 1),
                "total_s": round(drained - start, 3),
                "drain_after_enqueue_s": round(drained - enqueued, 3),
            },
        }, indent=2))



if __name__ == "__main__":
    main()
