#!/usr/bin/env python3
"""Embedded SQS SendMessage under concurrency: sends per second with 16 concurrent clients, each
answer a committed, durable row (group commit: concurrent sends share one SQLite transaction).

A benchmark, not a test: prints JSON, never passes or fails.  Starts ``fnhost serve`` on
Tests/Fixtures/queues/template.yaml with a fresh state directory and sends to its ``Plain`` queue
over raw HTTP (SQS JSON protocol, one keep-alive connection per client, no boto3), from
``--processes`` processes running ``--clients / --processes`` threads each, so the Python client
is not the limit.  At the end it checks that the queue holds every message answered 200.

    python3 bench/sqs_send.py [--clients 16] [--seconds 5] [--fnhost .build/release/fnhost]
"""

import argparse
import http.client
import json
import multiprocessing
import threading
import time

from bench_host import REPO, default_fnhost, percentile, running_host


def client_process(port, threads, seconds, start_at, results):
    """Runs `threads` clients until `start_at + seconds`; puts (count, latencies in µs) on `results`."""
    latencies = []
    lock = threading.Lock()

    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        url = f"http://127.0.0.1:{port}/123456789012/Plain"
        mine = []
        while time.time() < start_at:
            time.sleep(0.001)
        n = 0
        while time.time() < start_at + seconds:
            body = json.dumps({"QueueUrl": url, "MessageBody": f"client {index} message {n}"})
            t0 = time.perf_counter_ns()
            connection.request("POST", "/", body=body, headers={
                "X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0"})
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise SystemExit(f"SendMessage: {response.status} {data[:200]!r}")
            mine.append((time.perf_counter_ns() - t0) / 1000)
            n += 1
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(latencies)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--fnhost", default=default_fnhost())
    args = parser.parse_args()

    with running_host(args.fnhost, REPO / "Tests" / "Fixtures" / "queues" / "template.yaml", "fnhost-sqs-send-bench-") as (port, _):
        processes = max(1, min(args.processes, args.clients))
        results = multiprocessing.Queue()
        start_at = time.time() + 1.0
        children = []
        for p in range(processes):
            threads = args.clients // processes + (1 if p < args.clients % processes else 0)
            child = multiprocessing.Process(target=client_process, args=(port, threads, args.seconds, start_at, results))
            child.start()
            children.append(child)
        latencies = []
        for _ in children:
            latencies.extend(results.get())
        for child in children:
            child.join()

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("POST", "/", body=json.dumps({
            "QueueUrl": f"http://127.0.0.1:{port}/123456789012/Plain", "AttributeNames": ["ApproximateNumberOfMessages"]}),
            headers={"X-Amz-Target": "AmazonSQS.GetQueueAttributes", "Content-Type": "application/x-amz-json-1.0"})
        stored = int(json.loads(connection.getresponse().read())["Attributes"]["ApproximateNumberOfMessages"])

        print(json.dumps({
            "fnhost": args.fnhost,
            "send_message_concurrent": {
                "clients": args.clients, "seconds": args.seconds, "messages": len(latencies),
                "messages_per_s": round(len(latencies) / args.seconds),
                "p50_us": round(percentile(latencies, 50)), "p99_us": round(percentile(latencies, 99)),
                "stored": stored, "all_stored": stored == len(latencies),
            },
        }, indent=2))


if __name__ == "__main__":
    main()
