"""Embedded Kinesis stream through the real boto3 Kinesis client and the aws CLI (JSON 1.1 protocol).

One host serves Tests/Fixtures/streams/template.yaml (Clicks: 4 provisioned shards, 48 h retention;
orders: on demand) with the virtual clock, so iterator expiry and per-second write limits are
decided by ``fnhost clock advance``, never by waiting.  Tests that change a stream create one with a
unique name.  Malformed requests go over raw HTTP, since boto3 validates its own parameters.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config

from conftest import REPO, FNHOST_BIN, start_host

STREAMS_TEMPLATE = REPO / "Tests" / "Fixtures" / "streams" / "template.yaml"
ACCOUNT = "123456789012"
# The even split of the 128-bit hash-key space into four shards (Kinesis's and moto's).
FOUR_SHARD_ENDS = [
    "85070591730234615865843651857942052863", "170141183460469231731687303715884105727",
    "255211775190703847597530955573826158591", "340282366920938463463374607431768211455",
]


@pytest.fixture(scope="module")
def stream_host(tmp_path_factory):
    host = start_host(STREAMS_TEMPLATE, tmp_path_factory.mktemp("stream-host"), "--virtual-clock")
    try:
        yield host
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


@pytest.fixture(scope="module")
def kinesis(stream_host):
    return boto3.client("kinesis", endpoint_url=stream_host.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 0}))


def advance(host, duration: str):
    result = subprocess.run([str(FNHOST_BIN), "clock", "advance", duration, "--endpoint", host.endpoint],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def fresh_stream(kinesis, shards: int = 1) -> str:
    name = "t-" + uuid.uuid4().hex[:12]
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    return name


def read_shard(kinesis, stream: str, shard_id: str, iterator_type: str = "TRIM_HORIZON", **start) -> list[dict]:
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType=iterator_type,
                                          **start)["ShardIterator"]
    records = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
        records += page["Records"]
        if not page["Records"]:
            return records
        iterator = page["NextShardIterator"]


def raw(host, operation: str, body: bytes | str, target_prefix: str = "Kinesis_20131202.") -> tuple[int, dict]:
    request = urllib.request.Request(
        host.endpoint + "/", data=body.encode() if isinstance(body, str) else body, method="POST",
        headers={"X-Amz-Target": target_prefix + operation, "Content-Type": "application/x-amz-json-1.1"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


# --- template streams ----------------------------------------------------------------------------

def test_template_streams_are_listed_and_described(kinesis):
    listed = kinesis.list_streams()
    assert {"Clicks", "orders"} <= set(listed["StreamNames"])
    summaries = {s["StreamName"]: s for s in listed["StreamSummaries"]}
    assert summaries["orders"]["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"
    description = kinesis.describe_stream(StreamName="Clicks")["StreamDescription"]
    assert description["StreamStatus"] == "ACTIVE"
    assert description["StreamARN"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/Clicks"
    assert description["RetentionPeriodHours"] == 48
    assert [s["ShardId"] for s in description["Shards"]] == [f"shardId-00000000000{i}" for i in range(4)]
    assert [s["HashKeyRange"]["EndingHashKey"] for s in description["Shards"]] == FOUR_SHARD_ENDS
    assert description["Shards"][0]["HashKeyRange"]["StartingHashKey"] == "0"
    assert isinstance(description["StreamCreationTimestamp"], datetime.datetime)
    summary = kinesis.describe_stream_summary(StreamARN=description["StreamARN"])["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4 and summary["StreamName"] == "Clicks"


def test_describe_and_list_shards_page(kinesis):
    first = kinesis.describe_stream(StreamName="Clicks", Limit=3)["StreamDescription"]
    assert len(first["Shards"]) == 3 and first["HasMoreShards"] is True
    rest = kinesis.describe_stream(StreamName="Clicks", ExclusiveStartShardId=first["Shards"][-1]["ShardId"])
    assert [s["ShardId"] for s in rest["StreamDescription"]["Shards"]] == ["shardId-000000000003"]
    page = kinesis.list_shards(StreamName="Clicks", MaxResults=2)
    assert [s["ShardId"] for s in page["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    more = kinesis.list_shards(NextToken=page["NextToken"], MaxResults=5)
    assert [s["ShardId"] for s in more["Shards"]] == ["shardId-000000000002", "shardId-000000000003"]
    assert "NextToken" not in more
    paged = [n for p in kinesis.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 1})
             for n in p["StreamNames"]]
    assert {"Clicks", "orders"} <= set(paged)


# --- records ---------------------------------------------------------------------------------------

def test_partition_keys_route_by_md5_and_keep_their_order(kinesis):
    stream = fresh_stream(kinesis, shards=4)
    # md5("a") falls in the first quarter of the hash-key space.
    assert kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="a")["ShardId"] == "shardId-000000000000"
    keys = [f"user-{i}" for i in range(12)]
    entries = [{"Data": json.dumps({"key": k, "n": n}).encode(), "PartitionKey": k} for n in range(5) for k in keys]
    answer = kinesis.put_records(StreamName=stream, Records=entries)
    assert answer["FailedRecordCount"] == 0 and len(answer["Records"]) == 60
    shard_of = {}
    for entry, result in zip(entries, answer["Records"]):
        assert shard_of.setdefault(entry["PartitionKey"], result["ShardId"]) == result["ShardId"]
    assert len(set(shard_of.values())) > 1, "twelve keys all landed in one shard"
    seen = {}
    for shard in [f"shardId-00000000000{i}" for i in range(4)]:
        records = read_shard(kinesis, stream, shard)
        sequence_numbers = [int(r["SequenceNumber"]) for r in records]
        assert sequence_numbers == sorted(sequence_numbers) and len(set(sequence_numbers)) == len(records)
        for record in records:
            assert isinstance(record["ApproximateArrivalTimestamp"], datetime.datetime)
            if record["PartitionKey"] == "a":
                continue
            body = json.loads(record["Data"])
            assert shard_of[body["key"]] == shard
            seen.setdefault(body["key"], []).append(body["n"])
    assert seen == {k: [0, 1, 2, 3, 4] for k in keys}


def test_explicit_hash_key_overrides_the_partition_key(kinesis):
    stream = fresh_stream(kinesis, shards=4)
    answer = kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="a", ExplicitHashKey=FOUR_SHARD_ENDS[2])
    assert answer["ShardId"] == "shardId-000000000002"
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.put_record(StreamName=stream, Data=b"x", PartitionKey="a", ExplicitHashKey=str(2**128))


def test_every_iterator_type(kinesis, stream_host):
    stream = fresh_stream(kinesis)
    shard = "shardId-000000000000"
    first = [kinesis.put_record(StreamName=stream, Data=d, PartitionKey="k")["SequenceNumber"] for d in (b"1", b"2")]
    latest = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    advance(stream_host, "10s")
    kinesis.put_record(StreamName=stream, Data=b"3", PartitionKey="k")
    data = lambda records: [r["Data"] for r in records]  # noqa: E731
    assert data(read_shard(kinesis, stream, shard)) == [b"1", b"2", b"3"]
    assert data(kinesis.get_records(ShardIterator=latest)["Records"]) == [b"3"]
    assert data(read_shard(kinesis, stream, shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=first[1])) == [b"2", b"3"]
    assert data(read_shard(kinesis, stream, shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=first[1])) == [b"3"]
    arrived = read_shard(kinesis, stream, shard)[2]["ApproximateArrivalTimestamp"]
    assert data(read_shard(kinesis, stream, shard, "AT_TIMESTAMP", Timestamp=arrived)) == [b"3"]
    with pytest.raises(kinesis.exceptions.InvalidArgumentException):
        kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                   StartingSequenceNumber="12345")
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
        kinesis.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000009", ShardIteratorType="LATEST")


def test_millis_behind_latest_and_iterator_expiry_follow_the_clock(kinesis, stream_host):
    stream = fresh_stream(kinesis)
    for n in range(3):
        kinesis.put_record(StreamName=stream, Data=str(n).encode(), PartitionKey="k")
    advance(stream_host, "3s")
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    page = kinesis.get_records(ShardIterator=iterator, Limit=1)
    assert page["MillisBehindLatest"] >= 3000
    last = kinesis.get_records(ShardIterator=page["NextShardIterator"], Limit=10)
    assert [r["Data"] for r in last["Records"]] == [b"1", b"2"] and last["MillisBehindLatest"] == 0
    advance(stream_host, "5m1s")
    with pytest.raises(kinesis.exceptions.ExpiredIteratorException):
        kinesis.get_records(ShardIterator=last["NextShardIterator"])


def test_put_records_reports_throughput_failures_per_record(kinesis, stream_host):
    stream = fresh_stream(kinesis)
    advance(stream_host, "1s")  # a fresh second for the shard's 1 MiB
    entries = [{"Data": bytes(4096), "PartitionKey": f"k{i}"} for i in range(300)]  # 1.2 MB to one shard
    answer = kinesis.put_records(StreamName=stream, Records=entries)
    fits, used = 0, 0
    for entry in entries:
        size = len(entry["Data"]) + len(entry["PartitionKey"])
        if used + size > 1_048_576:
            break
        fits, used = fits + 1, used + size
    assert answer["FailedRecordCount"] == 300 - fits > 0
    assert all("SequenceNumber" in r for r in answer["Records"][:fits])
    assert all(r["ErrorCode"] == "ProvisionedThroughputExceededException" and r["ErrorMessage"]
               for r in answer["Records"][fits:])
    # An on-demand stream has no per-shard limit.
    assert kinesis.put_records(StreamName="orders", Records=entries)["FailedRecordCount"] == 0


def test_create_and_delete_streams(kinesis):
    name = fresh_stream(kinesis, shards=2)
    with pytest.raises(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(StreamName=name, ShardCount=2)
    on_demand = "t-" + uuid.uuid4().hex[:12]
    kinesis.create_stream(StreamName=on_demand, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert len(kinesis.list_shards(StreamName=on_demand)["Shards"]) == 4
    with pytest.raises(kinesis.exceptions.LimitExceededException):
        kinesis.create_stream(StreamName="t-" + uuid.uuid4().hex[:12], ShardCount=100_000)
    kinesis.delete_stream(StreamName=name)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as error:
        kinesis.describe_stream(StreamName=name)
    assert error.value.response["Error"]["Message"] == f"Stream {name} under account {ACCOUNT} not found."
    assert name not in kinesis.list_streams()["StreamNames"]


# --- bad input: Kinesis's error shape, never a crash -------------------------------------------------

@pytest.mark.parametrize("operation,body,code", [
    ("PutRecord", "{not json", "SerializationException"),
    ("PutRecord", "[1, 2]", "SerializationException"),
    ("PutRecord", '{"StreamName": "Clicks", "PartitionKey": "k", "Data": "%%%"}', "SerializationException"),
    ("PutRecord", '{"StreamName": "Clicks", "Data": "eA=="}', "ValidationException"),
    ("PutRecord", json.dumps({"StreamName": "Clicks", "PartitionKey": "k" * 257, "Data": "eA=="}), "ValidationException"),
    ("PutRecord", json.dumps({"StreamName": "Clicks", "PartitionKey": "k",
                              "Data": base64.b64encode(bytes(1_048_577)).decode()}), "ValidationException"),
    ("PutRecord", '{"StreamName": "no/such", "PartitionKey": "k", "Data": "eA=="}', "ValidationException"),
    ("PutRecord", '{"PartitionKey": "k", "Data": "eA=="}', "InvalidArgumentException"),
    ("PutRecords", json.dumps({"StreamName": "Clicks", "Records": [{"PartitionKey": "k", "Data": "eA=="}] * 501}),
     "ValidationException"),
    ("PutRecords", '{"StreamName": "Clicks", "Records": []}', "ValidationException"),
    ("PutRecords", '{"StreamName": "Clicks", "Records": "many"}', "SerializationException"),
    ("PutRecords", json.dumps({"StreamName": "orders", "Records": [
        {"PartitionKey": "k", "Data": base64.b64encode(bytes(1_000_000)).decode()}] * 6}), "InvalidArgumentException"),
    ("GetRecords", '{"ShardIterator": "bm90IGFuIGl0ZXJhdG9y"}', "InvalidArgumentException"),
    ("GetRecords", '{"ShardIterator": "x", "Limit": 0}', "ValidationException"),
    ("GetRecords", '{"ShardIterator": "x", "Limit": 10001}', "ValidationException"),
    ("GetRecords", '{"ShardIterator": "x", "Limit": "ten"}', "SerializationException"),
    ("GetShardIterator", '{"StreamName": "Clicks", "ShardId": "shardId-000000000000", "ShardIteratorType": "SOON"}',
     "ValidationException"),
    ("GetShardIterator", '{"StreamName": "Clicks", "ShardId": "shardId-000000000000", '
                         '"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": "yesterday"}', "SerializationException"),
    ("DescribeStream", '{"StreamName": "Clicks", "Limit": -1}', "ValidationException"),
    ("ListShards", '{"NextToken": "garbage"}', "InvalidArgumentException"),
    ("ListStreams", '{"Limit": 99999999999999999999999}', "SerializationException"),
    ("CreateStream", '{"StreamName": "x", "ShardCount": 0}', "ValidationException"),
    ("CreateStream", '{"StreamName": "x", "StreamModeDetails": {"StreamMode": "FAST"}}', "ValidationException"),
    ("MergeShards", "{}", "UnknownOperationException"),
])
def test_malformed_requests_get_kinesis_errors(stream_host, kinesis, operation, body, code):
    status, answer = raw(stream_host, operation, body)
    assert (status, answer.get("__type")) == (400, code), answer
    assert answer.get("message")
    assert "Clicks" in kinesis.list_streams()["StreamNames"]  # still serving


def test_an_oversized_body_is_refused_before_it_is_parsed(stream_host, kinesis):
    status, answer = raw(stream_host, "PutRecords", b"{" + b" " * (9 * 1024 * 1024) + b"}")
    assert status == 400 and answer["__type"] == "InvalidArgumentException"
    # Only the record-carrying operations take large bodies.
    status, answer = raw(stream_host, "DescribeStream", json.dumps({"StreamName": "Clicks", "Pad": "x" * 70_000}))
    assert status == 400 and answer["__type"] == "InvalidArgumentException"
    assert kinesis.describe_stream_summary(StreamName="Clicks")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"


# --- the aws CLI -----------------------------------------------------------------------------------

def test_aws_cli_puts_and_reads_records(stream_host):
    aws = shutil.which("aws")
    assert aws, "the aws CLI (v1) is not on PATH"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               AWS_PAGER="", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")

    def cli(*args: str) -> dict:
        result = subprocess.run([aws, "--endpoint-url", stream_host.endpoint, "kinesis", *args, "--output", "json"],
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout or "{}")

    name = "cli-" + uuid.uuid4().hex[:8]
    cli("create-stream", "--stream-name", name, "--shard-count", "1")
    assert name in cli("list-streams")["StreamNames"]
    put = cli("put-record", "--stream-name", name, "--partition-key", "k", "--data", "hello from the cli")
    assert put["ShardId"] == "shardId-000000000000"
    iterator = cli("get-shard-iterator", "--stream-name", name, "--shard-id", put["ShardId"],
                   "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
    records = cli("get-records", "--shard-iterator", iterator)["Records"]
    assert [r["SequenceNumber"] for r in records] == [put["SequenceNumber"]]
    assert base64.b64decode(records[0]["Data"]) == b"hello from the cli"
    cli("delete-stream", "--stream-name", name)
