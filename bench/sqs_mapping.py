#!/usr/bin/env python3
"""SQS event-source mapping benchmark: messages per second delivered end to end (queue -> poller ->
batch of 10 -> the C no-op -> delete), beside the embedded queue's own receive+delete rate.

A benchmark, not a test: prints JSON, never passes or fails.  Starts ``fnhost serve`` on
bench/sqs_mapping.yaml with a fresh state directory, fills the ``Work`` queue while its mapping
(BatchSize 10) is disabled, enables it through UpdateEventSourceMapping and times until the queue is
empty; then fills ``Drain`` and times one client's ReceiveMessage(10)+DeleteMessageBatch loop.
Requests are raw HTTP (SQS JSON protocol, Lambda REST), one keep-alive connection each.

    scripts/build-functions release   # the C no-op
    python3 bench/sqs_mapping.py [--count 20000] [--fnhost .build/release/fnhost]
"""

import argparse
import json
import time

from bench_host import REPO, HostClient, default_fnhost, receive_and_delete, running_host


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--fnhost", default=default_fnhost())
    parser.add_argument("--timeout", type=float, default=300, help="give up after this many seconds per phase")
    args = parser.parse_args()

    with running_host(args.fnhost, REPO / "bench" / "sqs_mapping.yaml", "fnhost-sqs-mapping-bench-") as (port, _):
        client = HostClient(port)
        request, metric = client.request, client.metric

        def sqs(operation, body):
            return client.call(f"AmazonSQS.{operation}", "application/x-amz-json-1.0", body)

        def fill(url):
            for b in range(args.count // 10):
                sqs("SendMessageBatch", {"QueueUrl": url, "Entries": [
                    {"Id": f"m{i}", "MessageBody": json.dumps({"n": b * 10 + i})} for i in range(10)]})

        def depth(url):
            attributes = sqs("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})["Attributes"]
            return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

        base = f"http://127.0.0.1:{port}/123456789012"
        work, drain = f"{base}/Work", f"{base}/Drain"
        total = args.count // 10 * 10

        # End to end through the mapping.
        fill(work)
        mapping = json.loads(request("GET", "/2015-03-31/event-source-mappings/?FunctionName=CNoop"))["EventSourceMappings"][0]
        started = time.monotonic()
        request("PUT", f"/2015-03-31/event-source-mappings/{mapping['UUID']}", json.dumps({"Enabled": True}),
                {"Content-Type": "application/json"})
        peak_pollers = 0.0
        while depth(work) > 0:
            peak_pollers = max(peak_pollers, metric("fnhost_esm_pollers"))
            if time.monotonic() - started > args.timeout:
                raise SystemExit(f"the mapping did not drain {total} messages in {args.timeout} s")
            time.sleep(0.02)
        mapping_seconds = time.monotonic() - started
        batches = metric("fnhost_esm_batches_invoked_total")
        invocations = metric("fnhost_invocations_total")

        # The queue alone: one client receiving 10 and deleting them.
        fill(drain)
        drain_seconds = receive_and_delete(sqs, drain, total)

        print(json.dumps({
            "fnhost": args.fnhost,
            "mapping": {
                "messages": total, "batch_size": 10, "seconds": round(mapping_seconds, 3),
                "messages_per_s": round(total / mapping_seconds), "batches_invoked": int(batches),
                "mean_batch": round(total / batches, 2) if batches else None,
                "function_invocations": int(invocations), "peak_pollers_seen": int(peak_pollers),
            },
            "queue_receive_delete": {"messages": total, "messages_per_s": round(total / drain_seconds)},
            "ratio_mapping_to_queue": round((total / mapping_seconds) / (total / drain_seconds), 2),
        }, indent=2))


if __name__ == "__main__":
    main()
