#!/usr/bin/env python3
"""Embedded SQS queue benchmark: SendMessage rate (p50/p99 of each committed 200), SendMessageBatch
rate, and the receive+delete drain rate, over the SQS JSON protocol on one keep-alive connection.

A benchmark, not a test: prints JSON, never passes or fails.  Starts ``fnhost serve`` on
Tests/Fixtures/queues/template.yaml with a fresh state directory and uses its ``Plain`` queue.
Requests are raw HTTP (``X-Amz-Target: AmazonSQS.*``), so boto3's own overhead is not measured.

    python3 bench/sqs_queue.py [--count 2000] [--fnhost .build/release/fnhost]
"""

import argparse
import http.client
import json
import time

from bench_host import REPO, default_fnhost, percentile, receive_and_delete, running_host


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--fnhost", default=default_fnhost())
    args = parser.parse_args()

    with running_host(args.fnhost, REPO / "Tests" / "Fixtures" / "queues" / "template.yaml", "fnhost-sqs-bench-") as (port, _):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        url = f"http://127.0.0.1:{port}/123456789012/Plain"

        def call(operation, body):
            connection.request("POST", "/", body=json.dumps(body), headers={
                "X-Amz-Target": f"AmazonSQS.{operation}", "Content-Type": "application/x-amz-json-1.0"})
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise SystemExit(f"{operation}: {response.status} {data[:200]!r}")
            return json.loads(data or b"{}")

        latencies = []
        started = time.monotonic()
        for i in range(args.count):
            t0 = time.perf_counter_ns()
            call("SendMessage", {"QueueUrl": url, "MessageBody": f"message {i}"})
            latencies.append((time.perf_counter_ns() - t0) / 1000)
        send_seconds = time.monotonic() - started

        batches = max(1, args.count // 10)
        started = time.monotonic()
        for b in range(batches):
            call("SendMessageBatch", {"QueueUrl": url, "Entries": [
                {"Id": f"m{i}", "MessageBody": f"batch {b} {i}"} for i in range(10)]})
        batch_seconds = time.monotonic() - started

        total = args.count + batches * 10
        drain_seconds = receive_and_delete(call, url, total)

        print(json.dumps({
            "fnhost": args.fnhost,
            "send": {"count": args.count, "messages_per_s": round(args.count / send_seconds),
                     "p50_us": round(percentile(latencies, 50)), "p99_us": round(percentile(latencies, 99))},
            "send_batch": {"messages": batches * 10, "messages_per_s": round(batches * 10 / batch_seconds)},
            "receive_delete": {"messages": total, "messages_per_s": round(total / drain_seconds)},
        }, indent=2))



if __name__ == "__main__":
    main()
