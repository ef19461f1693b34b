"""Kinesis event-source mappings on the embedded stream, fed through the real boto3 Kinesis client.

A host serves Tests/Fixtures/stream-mappings/template.yaml on the virtual clock, so a batching
window closes only when the batch is full (every test puts whole batches in one PutRecords), and a
failed batch is retried only when the clock is advanced past its backoff. ``fnhost clock advance``
returns once what fell due was invoked and checkpointed, so the metrics read right after it are
exact (function logs are captured asynchronously and are still read with a deadline). The
``stream-consumer`` fixture logs every event as ``RECORDED <json>`` and follows instructions in
record data (``fail``, ``raise``). Every delivered event is parsed with powertools'
``KinesisDataStreamModel``. The checkpoint test kills a host of its own with SIGKILL.
"""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
import uuid

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import KinesisDataStreamModel

from conftest import FNHOST_BIN, REPO, lambda_client, start_host, wait_for

TEMPLATE = REPO / "Tests" / "Fixtures" / "stream-mappings" / "template.yaml"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    host = start_host(TEMPLATE, tmp_path_factory.mktemp("stream-mappings"), "--virtual-clock")
    try:
        yield host
    finally:
        assert host.terminate(timeout=15) == 0, host.stderr()[-2000:]


def clients(host):
    options = dict(endpoint_url=host.endpoint, region_name="us-east-1", aws_access_key_id="test",
                   aws_secret_access_key="test")
    return boto3.client("kinesis", **options), boto3.client("sqs", **options)


def events(host, function: str) -> list[dict]:
    found = []
    for line in host.log_text(function).splitlines():
        if "RECORDED " in line:
            event = json.loads(line.split("RECORDED ", 1)[1])
            KinesisDataStreamModel.model_validate(event)  # powertools accepts every event we deliver
            found.append(event)
    return found


def data(record: dict) -> dict:
    return json.loads(KinesisDataStreamModel.model_validate({"Records": [record]}).Records[0].kinesis.data)


def tagged(host, function: str, tag: str) -> list[list[dict]]:
    """The events (as lists of decoded record data) that carry records of this test's tag."""
    batches = []
    for event in events(host, function):
        decoded = [dict(data(r), _sequence=r["kinesis"]["sequenceNumber"], _event_id=r["eventID"]) for r in event["Records"]]
        decoded = [d for d in decoded if d.get("tag") == tag]
        if decoded:
            batches.append(decoded)
    return batches


def put(kinesis, stream: str, payloads: list[dict], key=lambda p: p.get("key", "k")) -> list[str]:
    answer = kinesis.put_records(StreamName=stream, Records=[
        {"Data": json.dumps(p).encode(), "PartitionKey": key(p)} for p in payloads])
    assert answer["FailedRecordCount"] == 0
    return [r["SequenceNumber"] for r in answer["Records"]]


def failure_records(sqs, queue: str, count: int) -> list[dict]:
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found = []

    def receive():
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(found) >= count

    wait_for(receive, 60, what=f"{count} OnFailure records in {queue}")
    return found


def advance(host, duration: str):
    """Advances the host's virtual clock; returns once what fell due was invoked and checkpointed."""
    result = subprocess.run([str(FNHOST_BIN), "clock", "advance", duration, "--endpoint", host.endpoint],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def metric(host, name: str, function: str) -> float:
    with urllib.request.urlopen(host.endpoint + "/metrics") as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        if line.startswith(name + "{") and f'function_name="{function}"' in line:
            return float(line.split()[-1])
    return 0.0


def test_records_arrive_in_order_per_key_across_shards(host):
    kinesis, _ = clients(host)
    tag = uuid.uuid4().hex
    keys = [f"user-{i}" for i in range(12)]
    for n in range(5):
        put(kinesis, "OrderedStream", [{"tag": tag, "key": k, "n": n} for k in keys])
    batches = wait_for(lambda: (b := tagged(host, "Ordered", tag)) and sum(map(len, b)) >= 60 and b, 60,
                       what="60 records delivered")
    assert sum(map(len, batches)) == 60, "a record was delivered twice without a failure"
    shards_of_key, per_key = {}, {}
    for batch in batches:
        assert len(batch) <= 10
        shards = {r["_event_id"].split(":")[0] for r in batch}
        assert len(shards) == 1, "one event mixed shards"
        for record in batch:
            assert record["_event_id"].endswith(":" + record["_sequence"])
            shards_of_key.setdefault(record["key"], set()).add(record["_event_id"].split(":")[0])
            per_key.setdefault(record["key"], []).append(record["n"])
    assert per_key == {k: [0, 1, 2, 3, 4] for k in keys}
    assert all(len(s) == 1 for s in shards_of_key.values())
    assert len({next(iter(s)) for s in shards_of_key.values()}) > 1, "all keys in one shard: the test proves little"
    assert metric(host, "fnhost_esm_records_received_total", "Ordered") >= 60
    record = events(host, "Ordered")[0]["Records"][0]
    assert record["eventSource"] == "aws:kinesis" and record["eventName"] == "aws:kinesis:record"
    assert record["eventSourceARN"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/OrderedStream"
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)


def test_bisect_isolates_the_failing_record_and_reports_it(host):
    kinesis, sqs = clients(host)
    tag = uuid.uuid4().hex
    sequences = put(kinesis, "BisectStream", [{"tag": tag, "n": n, "raise": n == 5} for n in range(8)])
    # Halves run at once; the isolated poison record waits 1 s, then 2 s, on the host clock for its two retries.
    wait_for(lambda: metric(host, "fnhost_esm_stream_batches_retried_total", "Bisecting") >= 1, 60,
             what="the poison record's first failure")
    advance(host, "3s")
    (failure,) = failure_records(sqs, "StreamFailures", 1)
    info = failure["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (sequences[5], sequences[5], 1)
    assert info["shardId"] == "shardId-000000000000"
    assert info["streamArn"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/BisectStream"
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3  # the first try and two retries
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["requestContext"]["functionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:Bisecting"

    def succeeded():
        return sorted(r["n"] for b in tagged(host, "Bisecting", tag) if not any(r["raise"] for r in b) for r in b)

    # The half after the poison record runs after its OnFailure record is sent.
    wait_for(lambda: succeeded() == [0, 1, 2, 3, 4, 6, 7], 60, what="every record but the poison delivered")
    batches = tagged(host, "Bisecting", tag)
    assert [len(b) for b in batches][:4] == [8, 4, 4, 2]  # halves of the failing half, in order
    assert metric(host, "fnhost_esm_stream_batches_bisected_total", "Bisecting") >= 3


def test_a_partial_batch_response_checkpoints_before_the_lowest_failure(host):
    kinesis, sqs = clients(host)
    tag = uuid.uuid4().hex
    sequences = put(kinesis, "PartialStream", [{"tag": tag, "n": n, "fail": n == 2} for n in range(5)])
    wait_for(lambda: metric(host, "fnhost_esm_stream_batches_retried_total", "Partial") >= 1, 60,
             what="the partial failure")
    advance(host, "1s")  # the retry's backoff
    (failure,) = failure_records(sqs, "PartialFailures", 1)
    info = failure["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (sequences[2], sequences[4], 3)
    assert failure["requestContext"]["approximateInvokeCount"] == 2
    assert [[r["n"] for r in b] for b in tagged(host, "Partial", tag)] == [[0, 1, 2, 3, 4], [2, 3, 4]]


def test_the_mapping_api_lists_stream_mappings(host):
    mappings = lambda_client(host.endpoint).list_event_source_mappings(FunctionName="Bisecting")["EventSourceMappings"]
    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["EventSourceArn"] == f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/BisectStream"
    assert mapping["StartingPosition"] == "TRIM_HORIZON" and mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 2 and mapping["MaximumRecordAgeInSeconds"] == -1
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(":StreamFailures")
    latest = lambda_client(host.endpoint).list_event_source_mappings(FunctionName="Latest")["EventSourceMappings"]
    assert latest[0]["StartingPosition"] == "LATEST" and latest[0]["BatchSize"] == 100


def test_checkpoints_survive_kill_9(tmp_path):
    first = start_host(TEMPLATE, tmp_path)
    try:
        kinesis, _ = clients(first)
        tag = uuid.uuid4().hex
        put(kinesis, "OrderedStream", [{"tag": tag, "key": "solo", "n": n} for n in range(5)])
        wait_for(lambda: sum(map(len, tagged(first, "Ordered", tag))) >= 5, 60, what="the first five records")
        # A second batch: the shard reads it only after the first one's checkpoint was committed.
        put(kinesis, "OrderedStream", [{"tag": tag, "key": "solo", "n": n} for n in range(5, 8)])
        wait_for(lambda: sum(map(len, tagged(first, "Ordered", tag))) >= 8, 60, what="the second batch")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        first.kill_hard()
    log = first.log_file("Ordered")
    log.rename(log.with_suffix(".before"))
    second = start_host(TEMPLATE, tmp_path)
    try:
        kinesis, _ = clients(second)
        put(kinesis, "OrderedStream", [{"tag": tag, "key": "solo", "n": n} for n in range(8, 10)])
        wait_for(lambda: any(r["n"] == 9 for b in tagged(second, "Ordered", tag) for r in b), 60,
                 what="the records put after the restart")
        delivered = [r["n"] for b in tagged(second, "Ordered", tag) for r in b]
        # Resumed after the checkpoint: nothing skipped, the first batch not again; the second
        # batch (its checkpoint may not have been committed at the kill) may run again.
        assert delivered in ([8, 9], [5, 6, 7, 8, 9])
    finally:
        assert second.terminate(timeout=15) == 0


def test_the_mapping_api_creates_updates_and_deletes_a_kinesis_mapping(host):
    kinesis, _ = clients(host)
    lam = lambda_client(host.endpoint)
    stream = "api-" + uuid.uuid4().hex[:8]
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{stream}"
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(FunctionName="Latest", EventSourceArn=arn)  # no StartingPosition
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(FunctionName="Latest", EventSourceArn=arn + "-missing",
                                        StartingPosition="LATEST")
    created = lam.create_event_source_mapping(FunctionName="Latest", EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
                                              BatchSize=3, MaximumRetryAttempts=5)
    assert created["State"] == "Creating" and created["StartingPosition"] == "TRIM_HORIZON"
    assert created["BatchSize"] == 3 and created["MaximumRetryAttempts"] == 5
    tag = uuid.uuid4().hex
    put(kinesis, stream, [{"tag": tag, "n": n} for n in range(3)])
    wait_for(lambda: sum(map(len, tagged(host, "Latest", tag))) >= 3, 60, what="records through the API's mapping")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_event_source_mapping(UUID=created["UUID"], FilterCriteria={"Filters": [{"Pattern": "not json"}]})
    pattern = json.dumps({"data": {"tag": [tag]}})
    updated = lam.update_event_source_mapping(UUID=created["UUID"], Enabled=False, BisectBatchOnFunctionError=True,
                                              FilterCriteria={"Filters": [{"Pattern": pattern}]})
    assert updated["BisectBatchOnFunctionError"] is True
    assert updated["FilterCriteria"] == {"Filters": [{"Pattern": pattern}]}
    assert lam.get_event_source_mapping(UUID=created["UUID"])["State"] == "Disabled"
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_event_source_mapping(UUID=created["UUID"], ParallelizationFactor=11)
    lam.delete_event_source_mapping(UUID=created["UUID"])
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID=created["UUID"])


def test_tumbling_windows_carry_state_and_end_with_a_final_invoke(host):
    kinesis, _ = clients(host)
    tag = uuid.uuid4().hex
    put(kinesis, "WindowStream", [{"tag": tag, "n": n} for n in range(3)])

    def window_events():
        return [e for e in events(host, "Windowed") if any(data(r).get("tag") == tag for r in e["Records"])]

    wait_for(lambda: sum(len(e["Records"]) for e in window_events()) >= 3, 60, what="the window's three records")
    first, second = window_events()[:2]
    assert [len(first["Records"]), len(second["Records"])] == [2, 1]
    assert first["state"] == {} and second["state"]["count"] == 2
    assert first["window"] == second["window"] and first["isFinalInvokeForWindow"] is False
    assert first["shardId"] == "shardId-000000000000" and first["eventSourceARN"].endswith(":stream/WindowStream")
    invoked = metric(host, "fnhost_esm_stream_batches_invoked_total", "Windowed")
    advance(host, "61s")
    # The advance returned after the window's final invocation: no polling for it.
    assert metric(host, "fnhost_esm_stream_batches_invoked_total", "Windowed") == invoked + 1
    final = wait_for(lambda: [e for e in events(host, "Windowed") if e["isFinalInvokeForWindow"]
                              and e["window"] == first["window"]], 10, what="the final invoke's log line")[0]
    assert final["Records"] == [] and final["state"]["count"] == 3 and final["isWindowTerminatedEarly"] is False


def lane(key: str, lanes: int) -> int:
    """fnhost's lane of a partition key: FNV-1a (64 bit) of its UTF-8 bytes, modulo the lanes."""
    value = 0xcbf29ce484222325
    for byte in key.encode():
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return value % lanes


def test_parallelization_factor_keeps_order_per_partition_key(host):
    kinesis, _ = clients(host)
    tag = uuid.uuid4().hex
    keys = [f"k{i}" for i in range(8)]
    assert len({lane(k, 4) for k in keys}) > 1
    put(kinesis, "ParallelStream", [{"tag": tag, "key": k, "n": n} for n in range(5) for k in keys])
    batches = wait_for(lambda: (b := tagged(host, "Parallel", tag)) and sum(map(len, b)) >= 40 and b, 60,
                       what="40 records delivered")
    assert sum(map(len, batches)) == 40
    per_key = {}
    for batch in batches:
        assert len(batch) <= 5
        # A batch holds the keys of one lane only.
        assert len({lane(r["key"], 4) for r in batch}) == 1
        for record in batch:
            per_key.setdefault(record["key"], []).append(record["n"])
    assert per_key == {k: [0, 1, 2, 3, 4] for k in keys}


def test_a_latest_mapping_killed_before_its_first_record_skips_nothing(tmp_path):
    import sqlite3

    def marked():
        database = tmp_path / "state" / "fnhost.sqlite"
        if not database.exists():
            return False
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM streamCheckpoint WHERE streamARN LIKE '%/LatestLaterStream'"
                              " AND sequenceNumber = ''").fetchone()[0] == 1

    first = start_host(TEMPLATE, tmp_path)
    try:
        wait_for(marked, 30, what="the LATEST shard's start marker")
        kinesis, _ = clients(first)
        tag = uuid.uuid4().hex
        put(kinesis, "LatestLaterStream", [{"tag": tag, "n": 0}])  # the mapping is disabled: not consumed
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        first.kill_hard()
    second = start_host(TEMPLATE, tmp_path)
    try:
        lam = lambda_client(second.endpoint)
        (mapping,) = lam.list_event_source_mappings(FunctionName="LatestLater")["EventSourceMappings"]
        lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
        # A plain LATEST would start after the record; the restart resumes from when the shard first started.
        wait_for(lambda: tagged(second, "LatestLater", tag), 60, what="the record put before the restart")
    finally:
        assert second.terminate(timeout=15) == 0


def test_records_older_than_the_maximum_age_are_given_up(host):
    kinesis, sqs = clients(host)
    tag = uuid.uuid4().hex
    sequences = put(kinesis, "AgingStream", [{"tag": tag, "n": 0, "raise": True}])
    wait_for(lambda: metric(host, "fnhost_esm_stream_batches_retried_total", "Aging") >= 1, 60,
             what="the failing record's first attempt")
    advance(host, "61s")
    # Retries 1, 2, 4, 8 and 16 s apart (at 1, 3, 7, 15, 31 s); given up at 60.001 s, before the next one (63 s).
    assert metric(host, "fnhost_esm_stream_batches_invoked_total", "Aging") == 6
    (failure,) = failure_records(sqs, "AgingFailures", 1)
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert "responseContext" not in failure
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == sequences[0]
    attempts = len(tagged(host, "Aging", tag))
    # Given up: no more attempts once the record is reported.
    kinesis.put_record(StreamName="AgingStream", Data=json.dumps({"tag": tag, "n": 1}).encode(), PartitionKey="k")
    wait_for(lambda: any(r["n"] == 1 for b in tagged(host, "Aging", tag) for r in b), 60, what="the next record")
    assert sum(1 for b in tagged(host, "Aging", tag) if any(r["n"] == 0 for r in b)) <= attempts + 1


def test_retries_wait_an_exponential_backoff_on_the_host_clock(host):
    kinesis, _ = clients(host)
    tag = uuid.uuid4().hex
    kinesis.put_record(StreamName="PacedStream", Data=json.dumps({"tag": tag, "raise": True}).encode(), PartitionKey="k")
    wait_for(lambda: metric(host, "fnhost_esm_stream_batches_retried_total", "Paced") >= 1, 60, what="the first attempt")

    def attempts():
        return metric(host, "fnhost_esm_stream_batches_invoked_total", "Paced")

    assert attempts() == 1
    # Each advance returns once what fell due ran: the counts are exact, stepped through without polling.
    for wait in (1_000, 2_000, 4_000, 8_000):
        advance(host, f"{wait - 1}ms")
        before = attempts()
        advance(host, "1ms")
        assert attempts() == before + 1, f"the retry due {wait} ms after the last attempt"
    # The fifth attempt used the last of MaximumRetryAttempts 4: the record is given up.
    assert attempts() == 5
    assert metric(host, "fnhost_esm_records_discarded_total", "Paced") == 1


def test_a_tumbling_windows_state_survives_kill_9(tmp_path):
    import sqlite3

    def saved():
        database = tmp_path / "state" / "fnhost.sqlite"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            return db.execute("SELECT c.sequenceNumber, w.state FROM streamCheckpoint c JOIN streamWindow w"
                              " USING (mappingUUID, streamARN, shardID) WHERE c.streamARN LIKE '%/WindowKeptStream'"
                              ).fetchone()

    first = start_host(TEMPLATE, tmp_path, "--virtual-clock")
    try:
        kinesis, _ = clients(first)
        tag = uuid.uuid4().hex
        sequences = put(kinesis, "WindowKeptStream", [{"tag": tag, "n": n} for n in range(2)])
        # The batch's state (count 2) is committed with its checkpoint, in one transaction.
        row = wait_for(lambda: (r := saved()) and r[0] == sequences[-1] and r, 60, what="the first batch's checkpoint")
        assert json.loads(row[1])["count"] == 2
        wait_for(lambda: tagged(first, "WindowKept", tag), 10, what="the first batch's log line")
        (window,) = {json.dumps(e["window"]) for e in events(first, "WindowKept")}
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        first.kill_hard()
    log = first.log_file("WindowKept")
    log.rename(log.with_suffix(".before"))
    second = start_host(TEMPLATE, tmp_path, "--virtual-clock")
    try:
        kinesis, _ = clients(second)
        put(kinesis, "WindowKeptStream", [{"tag": tag, "n": 2}])
        # The restored window goes on with its state: the next record's batch if it falls in the same
        # window, else the window's final invocation first.
        later = wait_for(lambda: [e for e in events(second, "WindowKept") if json.dumps(e["window"]) == window], 60,
                         what="the restored window's next invocation")
        assert later[0]["state"]["count"] == 2
        assert all(data(r)["n"] == 2 for e in events(second, "WindowKept") for r in e["Records"]), "a record ran again"
    finally:
        assert second.terminate(timeout=15) == 0


def test_a_state_over_1_mb_terminates_the_window_early(host):
    kinesis, _ = clients(host)
    tag = uuid.uuid4().hex
    put(kinesis, "WindowEdgeStream", [{"tag": tag, "n": 0, "grow": 1_100_000}, {"tag": tag, "n": 1}])

    def window_events():
        return [e for e in events(host, "WindowEdges")
                if e["Records"] == [] or any(data(r).get("tag") == tag for r in e["Records"])]

    found = wait_for(lambda: (w := window_events()) and len(w) >= 3 and w, 60, what="three invocations")
    grown, early, after = found[:3]
    assert [data(r)["n"] for r in grown["Records"]] == [0] and grown["isWindowTerminatedEarly"] is False
    # The over-limit state ends the window at once, before its next record.
    assert early["Records"] == [] and early["isFinalInvokeForWindow"] is True
    assert early["isWindowTerminatedEarly"] is True and early["state"]["padding"] == "<1100000 chars>"
    # The same window goes on with a fresh state.
    assert [data(r)["n"] for r in after["Records"]] == [1] and after["state"] == {}
    assert after["window"] == grown["window"] and after["isFinalInvokeForWindow"] is False


def test_a_failing_batch_in_a_window_leaves_its_state_and_is_retried_then_reported(host):
    kinesis, sqs = clients(host)
    tag = uuid.uuid4().hex
    advance(host, "61s")  # whatever window an earlier test left open closes: this one starts with {}
    sequences = put(kinesis, "WindowEdgeStream", [{"tag": tag, "n": 0}, {"tag": tag, "n": 1, "raise": True},
                                                  {"tag": tag, "n": 2}])
    wait_for(lambda: metric(host, "fnhost_esm_stream_batches_retried_total", "WindowEdges") >= 1, 60,
             what="the failing batch's first attempt")
    advance(host, "1s")  # its one retry
    (failure,) = failure_records(sqs, "WindowEdgeFailures", 1)
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == sequences[1]
    assert failure["requestContext"]["approximateInvokeCount"] == 2

    def batches():
        return [e for e in events(host, "WindowEdges") if any(data(r).get("tag") == tag for r in e["Records"])]

    found = wait_for(lambda: (b := batches()) and any(data(r)["n"] == 2 for e in b for r in e["Records"]) and b, 60,
                     what="the record after the failing one")
    states = [(data(e["Records"][0])["n"], e["state"].get("count", 0)) for e in found]
    # The failed attempts did not change the state: the next batch sees the count of the first only.
    assert states == [(0, 0), (1, 1), (1, 1), (2, 1)]
    invoked = metric(host, "fnhost_esm_stream_batches_invoked_total", "WindowEdges")
    advance(host, "61s")
    assert metric(host, "fnhost_esm_stream_batches_invoked_total", "WindowEdges") == invoked + 1
    final = wait_for(lambda: [e for e in events(host, "WindowEdges") if e["isFinalInvokeForWindow"]
                              and e["window"] == found[0]["window"] and not e["isWindowTerminatedEarly"]], 10,
                     what="the window's final invoke")[-1]
    assert final["state"]["count"] == 2


def test_filter_criteria_pass_matching_records_and_checkpoint_past_the_rest(host):
    import sqlite3

    kinesis, _ = clients(host)
    tag = uuid.uuid4().hex
    records = [
        ({"tag": tag, "n": 0, "kind": "keep"}, "k"),
        ({"tag": tag, "n": 1, "kind": "drop"}, "k"),
        ("plain text, not JSON", "k"),  # a data pattern never matches non-JSON data
        ("plain text with the meta key", "meta"),  # nor does a pattern on metadata: filters see only data
        ({"tag": tag, "n": 4, "kind": "drop"}, "meta"),  # the n pattern matches
    ]
    answer = kinesis.put_records(StreamName="FilteredStream", Records=[
        {"Data": (json.dumps(d) if isinstance(d, dict) else d).encode(), "PartitionKey": key} for d, key in records])
    assert answer["FailedRecordCount"] == 0

    def delivered():
        found = []
        for event in events(host, "Filtered"):
            for record in KinesisDataStreamModel.model_validate(event).Records:
                found.append(record.kinesis.data.decode() if isinstance(record.kinesis.data, bytes) else record.kinesis.data)
        return found

    got = wait_for(lambda: (d := delivered()) and len(d) >= 2 and d, 60, what="the matching records")
    assert [json.loads(record)["n"] for record in got] == [0, 4]
    assert metric(host, "fnhost_esm_records_filtered_total", "Filtered") == 3
    # A page no pattern matches: not invoked, and the checkpoint moves past it.
    invoked = metric(host, "fnhost_esm_stream_batches_invoked_total", "Filtered")
    skipped = put(kinesis, "FilteredStream", [{"tag": tag, "n": n, "kind": "drop"} for n in range(5, 8)])
    database = host.state_dir / "state" / "fnhost.sqlite"

    def checkpoint():
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            return db.execute("SELECT sequenceNumber FROM streamCheckpoint WHERE streamARN LIKE '%/FilteredStream'"
                              ).fetchone()[0]

    wait_for(lambda: checkpoint() == skipped[-1], 60, what="the checkpoint past the filtered records")
    assert metric(host, "fnhost_esm_stream_batches_invoked_total", "Filtered") == invoked
    assert metric(host, "fnhost_esm_records_filtered_total", "Filtered") == 6


def test_iterator_age_is_the_age_of_the_last_record_when_its_batch_is_invoked(host):
    kinesis, _ = clients(host)
    kinesis.put_record(StreamName="AgedStream", Data=json.dumps({"n": 0}).encode(), PartitionKey="k")
    wait_for(lambda: metric(host, "fnhost_esm_records_received_total", "Aged") >= 1, 60, what="the record read")
    # Its batching window of 90 s closes on the virtual clock; the batch goes out with a 90 s old record.
    advance(host, "90s")
    assert metric(host, "fnhost_esm_records_delivered_total", "Aged") == 1
    assert metric(host, "fnhost_esm_iterator_age_milliseconds", "Aged") == 90_000
