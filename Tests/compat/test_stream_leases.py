"""Several hosts on one external stream: shard leases in DynamoDB (moto_server) share its shards.

Two ``fnhost serve`` processes (separate state directories, the same template) consume one moto
Kinesis stream of four shards and one DynamoDB stream, with a short lease duration. In the steady
state every record is delivered exactly once across the two hosts and both hold Kinesis shards;
after ``kill -9`` of one host the other takes its shards once their leases expire and delivers the
rest from the last checkpoint in the lease table: nothing is skipped, and only what the killed host
had in flight may run twice.

The ``recorder`` fixture logs every event as ``RECORDED <json>``; the lease tables are read with boto3.
"""

from __future__ import annotations

import base64
import collections
import json
import uuid

import pytest

from conftest import aws_client, recorder_template, start_host, wait_for

ACCOUNT = "123456789012"
SHARDS = 4
BATCH_SIZE = 10
LEASE_SECONDS = 4  # long enough for a host starved by a loaded 2-core machine to renew in time
PREFIX = "test-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def streams(moto):
    """The Kinesis stream and the table whose stream the hosts consume; their ARNs."""
    aws_client("kinesis", moto).create_stream(StreamName="leased-clicks", ShardCount=SHARDS)
    table = aws_client("dynamodb", moto).create_table(
        TableName="leased-orders", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    return {"kinesis": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/leased-clicks",
            "table": table["TableDescription"]["LatestStreamArn"]}


@pytest.fixture(scope="module")
def hosts(moto, streams, tmp_path_factory):
    """Two hosts on the streams; the second is killed by the last test."""
    directory = tmp_path_factory.mktemp("leased")
    template = directory / "template.yaml"
    template.write_text(recorder_template({
        "FromStream": f'Clicks: {{Type: Kinesis, Properties: {{Stream: "{streams["kinesis"]}", '
                      f'StartingPosition: TRIM_HORIZON, BatchSize: {BATCH_SIZE}}}}}',
        "FromTable": f'Orders: {{Type: DynamoDB, Properties: {{Stream: "{streams["table"]}", StartingPosition: TRIM_HORIZON}}}}',
    }))
    started = []
    try:
        for name in ("a", "b"):
            started.append(start_host(
                template, directory / name, "--lease-duration", str(LEASE_SECONDS), "--lease-table-prefix", PREFIX,
                env={"AWS_ENDPOINT_URL": moto}))
        yield started
    finally:
        for host in started:
            host.kill_hard()


def leases(moto, function: str) -> dict[str, dict]:
    """The function's lease items by shard id (attribute values unwrapped); empty before its table exists."""
    dynamodb = aws_client("dynamodb", moto)
    tables = [n for n in dynamodb.list_tables()["TableNames"] if n.startswith(f"{PREFIX}-{function}-")]
    assert len(tables) <= 1, tables
    if not tables:
        return {}
    items = dynamodb.scan(TableName=tables[0], ConsistentRead=True)["Items"]
    return {item["shardId"]["S"]: {key: next(iter(value.values())) for key, value in item.items()} for item in items}


def owners(moto, function: str) -> collections.Counter:
    return collections.Counter(item.get("leaseOwner") for item in leases(moto, function).values())


def checkpointed(moto, function: str, last: dict[str, str]) -> bool:
    """Whether each shard's checkpoint is its last record's sequence number."""
    items = leases(moto, function)
    return all(items.get(shard, {}).get("checkpoint") == sequence for shard, sequence in last.items())


def events(host, function: str) -> list[dict]:
    return [json.loads(line.split("RECORDED ", 1)[1]) for line in host.log_text(function).splitlines()
            if "RECORDED " in line]


def delivered(host, run: str) -> list[int]:
    """The numbers of this run's Kinesis records the host delivered, as often as it delivered them."""
    found = []
    for event in events(host, "FromStream"):
        for record in event["Records"]:
            data = json.loads(base64.b64decode(record["kinesis"]["data"]))
            if data.get("run") == run:
                found.append(data["n"])
    return found


def changes(host, run: str) -> list[str]:
    """The keys of this run's DynamoDB items whose insert the host delivered."""
    return [r["dynamodb"]["Keys"]["id"]["S"] for e in events(host, "FromTable") for r in e["Records"]
            if r["dynamodb"]["Keys"]["id"]["S"].startswith(run)]


def put(moto, run: str, numbers) -> dict[str, str]:
    """Puts one record per number (keys spread over the shards); returns each shard's last sequence number."""
    kinesis = aws_client("kinesis", moto)
    last = {}
    for n in numbers:
        answer = kinesis.put_record(StreamName="leased-clicks", Data=json.dumps({"run": run, "n": n}).encode(),
                                    PartitionKey=f"key-{n}")
        last[answer["ShardId"]] = answer["SequenceNumber"]
    return last


def test_two_hosts_share_the_shards_and_deliver_every_record_once(moto, hosts, streams):
    a, b = hosts

    def balanced():
        counts = owners(moto, "FromStream")
        return len(counts) == 2 and None not in counts and sorted(counts.values()) == [2, 2] \
            and len(owners(moto, "FromTable")) == 1 and None not in owners(moto, "FromTable")

    wait_for(balanced, 60, interval=0.2, what="each host holding two of the four Kinesis shard leases")
    # Steady: a host that had a lease stolen stops that shard at its next renewal or table read, so
    # wait until every holder renewed twice more with nothing changing hands.
    settled = {shard: (item["leaseOwner"], int(item["leaseCounter"]))
               for function in ("FromStream", "FromTable") for shard, item in leases(moto, function).items()}

    def renewed_twice():
        now = {shard: (item.get("leaseOwner"), int(item["leaseCounter"]))
               for function in ("FromStream", "FromTable") for shard, item in leases(moto, function).items()}
        assert all(now[shard][0] == owner for shard, (owner, _) in settled.items()), "a lease changed hands"
        return all(now[shard][1] >= counter + 2 for shard, (_, counter) in settled.items())

    wait_for(renewed_twice, 30, interval=0.2, what="every lease renewed twice by its holder")
    run = uuid.uuid4().hex
    last = put(moto, run, range(60))
    assert len(last) == SHARDS, "the keys reach every shard"
    dynamodb = aws_client("dynamodb", moto)
    keys = [f"{run}-{n}" for n in range(10)]
    for key in keys:
        dynamodb.put_item(TableName="leased-orders", Item={"id": {"S": key}})

    wait_for(lambda: checkpointed(moto, "FromStream", last), 60, interval=0.2,
             what="every Kinesis shard checkpointed at its last record")
    from_a, from_b = delivered(a, run), delivered(b, run)
    assert sorted(from_a + from_b) == list(range(60)), "every record exactly once across the two hosts"
    assert from_a and from_b, "both hosts delivered records"

    table_stream = aws_client("dynamodbstreams", moto).describe_stream(StreamArn=streams["table"])
    (table_shard,) = [shard["ShardId"] for shard in table_stream["StreamDescription"]["Shards"]]

    def table_done():
        checkpoint = leases(moto, "FromTable")[table_shard].get("checkpoint")
        return checkpoint and len(changes(a, run) + changes(b, run)) >= len(keys)

    wait_for(table_done, 60, interval=0.2, what="the table's changes delivered and checkpointed")
    assert sorted(changes(a, run) + changes(b, run)) == sorted(keys), "each change exactly once"
    assert not (changes(a, run) and changes(b, run)), "one host holds the table stream's one shard"


def test_a_killed_hosts_shards_are_taken_over_from_its_last_checkpoint(moto, hosts):
    a, b = hosts
    run = uuid.uuid4().hex
    put(moto, run, range(0, 40))
    # b is working on this run when it dies.
    wait_for(lambda: delivered(b, run), 60, interval=0.1, what="the host to be killed delivering records")
    b.process.kill()
    b.process.wait(timeout=10)
    before_kill = delivered(b, run)
    last = put(moto, run, range(40, 80))

    def a_holds_all():
        counts = owners(moto, "FromStream")
        return counts and len(counts) == 1 and None not in counts and sum(counts.values()) == SHARDS

    wait_for(a_holds_all, 30, interval=0.2, what="the surviving host taking every shard lease")
    wait_for(lambda: checkpointed(moto, "FromStream", last), 60, interval=0.2,
             what="every shard checkpointed at its last record")
    from_a = delivered(a, run)
    counts = collections.Counter(from_a + before_kill)
    assert sorted(counts) == list(range(80)), "nothing skipped"
    assert all(count == 1 for count in collections.Counter(from_a).values()), "the survivor delivers each record once"
    twice = [n for n, count in counts.items() if count > 1]
    # Only what the killed host had in flight ran twice: at most a batch on each of its two shards.
    assert set(twice) <= set(before_kill) and len(twice) <= 2 * BATCH_SIZE, twice
    assert sorted(n for n in from_a if n >= 40) == list(range(40, 80))


def test_a_host_without_dynamodb_processes_nothing_of_an_external_stream_and_says_why(moto, streams, tmp_path):
    from conftest import free_port, lambda_client

    template = tmp_path / "template.yaml"
    template.write_text(recorder_template({
        "Blind": f'Clicks: {{Type: Kinesis, Properties: {{Stream: "{streams["kinesis"]}", StartingPosition: TRIM_HORIZON}}}}',
    }))
    put(moto, "blind", range(4))  # records a host that ignored its leases would deliver
    # Kinesis answers; DynamoDB (the lease tables) is a port nobody listens on.
    host = start_host(template, tmp_path / "host", "--lease-table-prefix", PREFIX,
                      env={"AWS_ENDPOINT_URL": moto, "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{free_port()}"})
    try:
        client = lambda_client(host.endpoint)
        (mapping,) = client.list_event_source_mappings(FunctionName="Blind")["EventSourceMappings"]

        def problem():
            result = client.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"]
            return result.startswith("PROBLEM: lease table") and result

        assert PREFIX + "-Blind-" in wait_for(problem, 30, interval=0.2, what="the mapping reporting its lease table")
        # Attempts are a second apart: by the third, a host reading without a lease would have delivered.
        wait_for(lambda: host.stderr().count("could not prepare its lease table") >= 3, 30, interval=0.2,
                 what="three attempts at the lease table")
        assert not events(host, "Blind"), "without a lease nothing is read"
    finally:
        assert host.terminate(timeout=15) == 0, host.stderr()[-2000:]


def test_a_host_stopped_gracefully_hands_its_leases_back_with_their_checkpoints(moto, hosts):
    a, b = hosts
    assert b.process.poll() is not None, "runs after the kill test"
    held = leases(moto, "FromStream")
    assert {item.get("leaseOwner") for item in held.values()} == {next(iter(held.values()))["leaseOwner"]}
    assert a.terminate(timeout=15) == 0, a.stderr()[-2000:]
    # Handed back before the host exited: no owner, the counter moved, the checkpoints kept.
    after = leases(moto, "FromStream")
    assert all("leaseOwner" not in item for item in after.values()), after
    assert all(int(after[shard]["leaseCounter"]) > int(item["leaseCounter"]) for shard, item in held.items())
    assert all(after[shard].get("checkpoint") == item.get("checkpoint") for shard, item in held.items())
