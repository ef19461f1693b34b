#!/usr/bin/env python3
"""Kinesis event-source mapping benchmark: records per second delivered end to end (stream -> shard
reader -> batch of 100 -> the C no-op -> checkpoint), and the embedded stream's PutRecords rate.

A benchmark, not a test: prints JSON, never passes or fails.  Starts ``fnhost serve`` on
bench/kinesis_mapping.yaml with a fresh state directory, fills the on-demand ``Work`` stream (4
shards) with PutRecords of 500 while its mapping (BatchSize 100) is disabled (that is the put
rate), enables it through UpdateEventSourceMapping and times until every record was delivered
(``fnhost_esm_records_delivered_total``).  Requests are raw HTTP, one keep-alive connection.

    scripts/build-functions release   # the C no-op
    python3 bench/kinesis_mapping.py [--count 50000] [--fnhost .build/release/fnhost]
"""

import argparse
import base64
import json
import time

from bench_host import REPO, HostClient, default_fnhost, running_host


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50000)
    parser.add_argument("--record-bytes", type=int, default=100)
    parser.add_argument("--fnhost", default=default_fnhost())
    parser.add_argument("--timeout", type=float, default=300, help="give up after this many seconds per phase")
    args = parser.parse_args()

    with running_host(args.fnhost, REPO / "bench" / "kinesis_mapping.yaml", "fnhost-kinesis-mapping-bench-") as (port, _):
        client = HostClient(port)
        connection, request, metric = client.connection, client.request, client.metric

        def kinesis(operation, body):
            return client.call(f"Kinesis_20131202.{operation}", "application/x-amz-json-1.1", body)

        total = args.count // 500 * 500
        payload = base64.b64encode(b"x" * args.record_bytes).decode()
        bodies = [json.dumps({"StreamName": "Work", "Records": [
            {"Data": payload, "PartitionKey": f"key-{b}-{i}"} for i in range(500)]}) for b in range(total // 500)]
        started = time.monotonic()
        for body in bodies:
            connection.request("POST", "/", body, {
                "X-Amz-Target": "Kinesis_20131202.PutRecords", "Content-Type": "application/x-amz-json-1.1"})
            response = connection.getresponse()
            answer = json.loads(response.read())
            if response.status != 200 or answer["FailedRecordCount"]:
                raise SystemExit(f"PutRecords failed: {response.status} {str(answer)[:300]}")
        put_seconds = time.monotonic() - started

        mapping = json.loads(request("GET", "/2015-03-31/event-source-mappings/?FunctionName=CNoop"))["EventSourceMappings"][0]
        started = time.monotonic()
        request("PUT", f"/2015-03-31/event-source-mappings/{mapping['UUID']}", json.dumps({"Enabled": True}),
                {"Content-Type": "application/json"})
        while metric("fnhost_esm_records_delivered_total") < total:
            if time.monotonic() - started > args.timeout:
                raise SystemExit(f"the mapping did not deliver {total} records in {args.timeout} s")
            time.sleep(0.02)
        mapping_seconds = time.monotonic() - started
        batches = metric("fnhost_esm_stream_batches_invoked_total")
        shards = len(kinesis("ListShards", {"StreamName": "Work"})["Shards"])

        print(json.dumps({
            "fnhost": args.fnhost,
            "mapping": {
                "records": total, "record_bytes": args.record_bytes, "shards": shards, "batch_size": 100,
                "seconds": round(mapping_seconds, 3), "records_per_s": round(total / mapping_seconds),
                "batches_invoked": int(batches), "mean_batch": round(total / batches, 2) if batches else None,
            },
            "put_records": {"records": total, "per_request": 500, "seconds": round(put_seconds, 3),
                            "records_per_s": round(total / put_seconds)},
            "target_records_per_s": 20000,
        }, indent=2))


if __name__ == "__main__":
    main()
