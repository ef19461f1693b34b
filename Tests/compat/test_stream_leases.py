"""Several hosts on one external stream: shard leases in DynamoDB (moto_server) share its shards.

Two ``fnhost serve`` processes (separate state directories, the same template) consume one moto
Kinesis stream of four shards with a short lease duration. In the steady state every record is
delivered exactly once across the two hosts and both hold shards; after ``kill -9`` of one host the
other takes its shards once their leases expire and delivers the rest from the last checkpoint in the
lease table: nothing is skipped, and only what the killed host had in flight may run twice.

The ``recorder`` fixture logs every event as ``RECORDED <json>``; the lease table is read with boto3.
"""

from __future__ import annotations

import base64
import collections
import json
import uuid

import pytest

from conftest import REPO, aws_client, start_host, wait_for

ACCOUNT = "123456789012"
RECORDER = REPO / "Tests" / "Fixtures" / "functions" / "recorder"
SHARDS = 4
BATCH_SIZE = 10
LEASE_SECONDS = 4  # long enough for a host starved by a loaded 2-core machine to renew in time


@pytest.fixture(scope="module")
def stream(moto):
    kinesis = aws_client("kinesis", moto)
    kinesis.create_stream(StreamName="leased-clicks", ShardCount=SHARDS)
    return f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/leased-clicks"


@pytest.fixture(scope="module")
def hosts(moto, stream, tmp_path_factory):
    """Two hosts on the stream; a list the tests may shrink by killing one."""
    directory = tmp_path_factory.mktemp("leased")
    template = directory / "template.yaml"
    template.write_text(f"""
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  FromStream:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {RECORDER}/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Clicks: {{Type: Kinesis, Properties: {{Stream: "{stream}", StartingPosition: TRIM_HORIZON, BatchSize: {BATCH_SIZE}}}}}
""")
    prefix = "test-" + uuid.uuid4().hex[:8]
    started = []
    try:
        for name in ("a", "b"):
            started.append(start_host(
                template, directory / name, "--lease-duration", str(LEASE_SECONDS), "--lease-table-prefix", prefix,
                env={"AWS_ENDPOINT_URL": moto}))
        yield started
    finally:
        for host in started:
            host.kill_hard()


def lease_table(moto) -> str:
    names = [n for n in aws_client("dynamodb", moto).list_tables()["TableNames"] if n.startswith("test-")]
    assert len(names) <= 1, names
    return names[0] if names else ""


def leases(moto) -> list[dict]:
    table = lease_table(moto)
    if not table:
        return []
    items = aws_client("dynamodb", moto).scan(TableName=table, ConsistentRead=True)["Items"]
    return [{key: next(iter(value.values())) for key, value in item.items()} for item in items]


def owners(moto) -> collections.Counter:
    return collections.Counter(item.get("leaseOwner") for item in leases(moto))


def delivered(host, run: str) -> list[int]:
    found = []
    for line in host.log_text("FromStream").splitlines():
        if "RECORDED " not in line:
            continue
        for record in json.loads(line.split("RECORDED ", 1)[1])["Records"]:
            data = json.loads(base64.b64decode(record["kinesis"]["data"]))
            if data.get("run") == run:
                found.append(data["n"])
    return found


def put(moto, run: str, numbers) -> dict[str, str]:
    """Puts one record per number (keys spread over the shards); returns each shard's last sequence number."""
    kinesis = aws_client("kinesis", moto)
    last = {}
    for n in numbers:
        answer = kinesis.put_record(StreamName="leased-clicks", Data=json.dumps({"run": run, "n": n}).encode(),
                                    PartitionKey=f"key-{n}")
        last[answer["ShardId"]] = answer["SequenceNumber"]
    return last


def test_two_hosts_share_the_shards_and_deliver_every_record_once(moto, hosts):
    a, b = hosts

    def balanced():
        counts = owners(moto)
        return len(counts) == 2 and None not in counts and sorted(counts.values()) == [2, 2]

    wait_for(balanced, 60, interval=0.2, what="both hosts holding two of the four shard leases")
    # Steady: a host that had a lease stolen stops that shard at its next renewal or table read, so
    # wait until every holder renewed twice more with nothing changing hands.
    settled = {item["shardId"]: (item["leaseOwner"], int(item["leaseCounter"])) for item in leases(moto)}

    def renewed_twice():
        now = {item["shardId"]: (item.get("leaseOwner"), int(item["leaseCounter"])) for item in leases(moto)}
        assert all(now[shard][0] == owner for shard, (owner, _) in settled.items()), "a lease changed hands"
        return all(now[shard][1] >= counter + 2 for shard, (_, counter) in settled.items())

    wait_for(renewed_twice, 30, interval=0.2, what="every lease renewed twice by its holder")
    run = uuid.uuid4().hex
    last = put(moto, run, range(60))
    assert len(last) == SHARDS, "the keys reach every shard"

    def checkpointed():
        by_shard = {item["shardId"]: item.get("checkpoint") for item in leases(moto)}
        return all(by_shard.get(shard) == sequence for shard, sequence in last.items())

    wait_for(checkpointed, 60, interval=0.2, what="every shard checkpointed at its last record")
    from_a, from_b = delivered(a, run), delivered(b, run)
    assert sorted(from_a + from_b) == list(range(60)), "every record exactly once across the two hosts"
    assert from_a and from_b, "both hosts delivered records"


def test_a_killed_hosts_shards_are_taken_over_from_its_last_checkpoint(moto, hosts):
    a, b = hosts
    run = uuid.uuid4().hex
    put(moto, run, range(0, 40))
    # b is working on the second run when it dies.
    wait_for(lambda: delivered(b, run), 60, interval=0.1, what="the host to be killed delivering records")
    b.process.kill()
    b.process.wait(timeout=10)
    before_kill = delivered(b, run)
    last = put(moto, run, range(40, 80))

    def a_holds_all():
        counts = owners(moto)
        return list(counts.items()) and len(counts) == 1 and counts.most_common(1)[0][1] == SHARDS \
            and None not in counts

    wait_for(a_holds_all, 30, interval=0.2, what="the surviving host taking every shard lease")

    def checkpointed():
        by_shard = {item["shardId"]: item.get("checkpoint") for item in leases(moto)}
        return all(by_shard.get(shard) == sequence for shard, sequence in last.items())

    wait_for(checkpointed, 60, interval=0.2, what="every shard checkpointed at its last record")
    from_a = delivered(a, run)
    counts = collections.Counter(from_a + before_kill)
    assert sorted(counts) == list(range(80)), "nothing skipped"
    assert all(count == 1 for count in collections.Counter(from_a).values()), "the survivor delivers each record once"
    twice = [n for n, count in counts.items() if count > 1]
    # Only what the killed host had in flight ran twice: at most a batch on each of its two shards.
    assert set(twice) <= set(before_kill) and len(twice) <= 2 * BATCH_SIZE, twice
    assert sorted(n for n in from_a if n >= 40) == list(range(40, 80))
