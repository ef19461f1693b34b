"""SQS event-source mappings on the embedded queue, driven through the real boto3 SQS client.

Hosts serve Tests/Fixtures/mappings/template.yaml on the virtual clock (``--virtual-clock``): visibility
timeouts and batching windows pass when the test runs ``fnhost clock advance``, never by sleeping. The
``sqs-consumer`` fixture logs every event as ``RECORDED <json>`` and follows instructions in message
bodies (``fail``, ``raise``, ``garbage``). Every delivered event is parsed with powertools' ``SqsModel``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel

from conftest import FNHOST_BIN, REPO, lambda_client, start_host, wait_for

TEMPLATE = REPO / "Tests" / "Fixtures" / "mappings" / "template.yaml"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    host = start_host(TEMPLATE, tmp_path_factory.mktemp("mappings"), "--virtual-clock")
    try:
        yield host
    finally:
        assert host.terminate(timeout=15) == 0, host.stderr()[-2000:]


@pytest.fixture(scope="module")
def sqs(host):
    return boto3.client("sqs", endpoint_url=host.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def queue_url(sqs, name: str) -> str:
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def events(host, function: str) -> list[dict]:
    found = []
    for line in host.log_text(function).splitlines():
        if "RECORDED " in line:
            event = json.loads(line.split("RECORDED ", 1)[1])
            SqsModel.model_validate(event)  # powertools accepts every event we deliver
            found.append(event)
    return found


def records(host, function: str, tag: str | None = None) -> list[dict]:
    return [r for e in events(host, function) for r in e["Records"] if tag is None or tag in r["body"]]


def advance(host, duration: str):
    result = subprocess.run([str(FNHOST_BIN), "clock", "advance", duration, "--endpoint", host.endpoint],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def counts(sqs, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def metric(host, name: str, function: str) -> float:
    with urllib.request.urlopen(host.endpoint + "/metrics") as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        if line.startswith(name + "{") and f'function_name="{function}"' in line:
            return float(line.split()[-1])
    return 0.0


def send(sqs, url: str, bodies: list, **extra) -> list[str]:
    ids = []
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": b if isinstance(b, str) else json.dumps(b), **extra}
                   for i, b in enumerate(bodies[start:start + 10])]
        answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not answer.get("Failed"), answer
        ids += [s["MessageId"] for s in sorted(answer["Successful"], key=lambda s: int(s["Id"]))]
    return ids


def test_batches_are_lambdas_event_and_success_deletes_them(host, sqs):
    url = queue_url(sqs, "BatchQueue")
    tag = uuid.uuid4().hex
    ids = send(sqs, url, [{"tag": tag, "n": n} for n in range(25)],
               MessageAttributes={"Author": {"DataType": "String", "StringValue": "John Grisham"}})
    wait_for(lambda: {r["messageId"] for r in records(host, "Batches", tag)} == set(ids), 60,
             what="all 25 messages delivered")
    delivered = records(host, "Batches", tag)
    assert len(delivered) == 25, "each message delivered once"
    assert all(len(e["Records"]) <= 10 for e in events(host, "Batches"))
    record = delivered[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:BatchQueue"
    assert record["awsRegion"] == "us-east-1"
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert list(record["attributes"])[:4] == ["ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                               "ApproximateFirstReceiveTimestamp"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"] == {"Author": {"stringValue": "John Grisham", "stringListValues": [],
                                                      "binaryListValues": [], "dataType": "String"}}
    wait_for(lambda: counts(sqs, url) == (0, 0), 30, what="the queue to be empty")
    assert metric(host, "fnhost_esm_messages_received_total", "Batches") >= 25
    assert metric(host, "fnhost_esm_batches_invoked_total", "Batches") >= 3


def test_partial_failures_reappear_after_the_visibility_timeout_then_redrive(host, sqs):
    url = queue_url(sqs, "PartialQueue")
    tag = uuid.uuid4().hex
    ok1, bad, ok2 = send(sqs, url, [{"tag": tag, "n": 1}, {"tag": tag, "fail": True}, {"tag": tag, "n": 2}])
    wait_for(lambda: {r["messageId"] for r in records(host, "Partial", tag)} == {ok1, bad, ok2}, 60,
             what="the first delivery")
    # The successes are deleted; the failure waits out its 30 s visibility timeout.
    wait_for(lambda: counts(sqs, url) == (0, 1), 30, what="only the failed message left, in flight")
    advance(host, "30s")
    wait_for(lambda: len([r for r in records(host, "Partial", tag) if r["messageId"] == bad]) == 2, 60,
             what="the failed message delivered again")
    again = [r for r in records(host, "Partial", tag) if r["messageId"] == bad]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in again] == ["1", "2"]
    assert len([r for r in records(host, "Partial", tag) if r["messageId"] in (ok1, ok2)]) == 2
    # Received maxReceiveCount (2) times: on the next receive the queue moves it to the DLQ.
    wait_for(lambda: metric(host, "fnhost_esm_messages_redriven_total", "Partial") >= 1, 30, what="the redrive count")
    advance(host, "30s")
    dlq = queue_url(sqs, "PartialDLQ")
    moved = wait_for(lambda: sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"]).get("Messages"), 30,
                     what="the message in the dead-letter queue")
    assert moved[0]["MessageId"] == bad
    assert moved[0]["Attributes"]["ApproximateReceiveCount"] == "3"
    assert moved[0]["Attributes"]["DeadLetterQueueSourceArn"].endswith(":PartialQueue")
    assert len([r for r in records(host, "Partial", tag) if r["messageId"] == bad]) == 2
    assert metric(host, "fnhost_esm_messages_retried_total", "Partial") >= 2


def test_a_malformed_partial_response_fails_the_batch_not_the_host(host, sqs):
    url = queue_url(sqs, "PartialQueue")
    tag = uuid.uuid4().hex
    (garbage,) = send(sqs, url, [{"tag": tag, "garbage": True}])
    wait_for(lambda: records(host, "Partial", tag), 60, what="the delivery")
    wait_for(lambda: metric(host, "fnhost_esm_batches_failed_total", "Partial") >= 1, 30, what="a failed batch")
    assert counts(sqs, url) == (0, 1), "the message was kept"
    advance(host, "30s")
    wait_for(lambda: len(records(host, "Partial", tag)) == 2, 60, what="the retry")
    assert lambda_client(host.endpoint).list_functions()["Functions"], "the host still serves"


def test_fifo_groups_keep_their_order_and_a_failure_blocks_its_group(host, sqs):
    url = queue_url(sqs, "OrderedQueue.fifo")
    tag = uuid.uuid4().hex
    for n in range(6):
        for group in ("A", "B"):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"tag": tag, "g": group, "n": n}),
                             MessageGroupId=group)
    wait_for(lambda: len(records(host, "Ordered", tag)) == 12, 60, what="12 FIFO messages")
    for group in ("A", "B"):
        order = [json.loads(r["body"])["n"] for r in records(host, "Ordered", tag) if f'"g": "{group}"' in r["body"]]
        assert order == list(range(6)), group
    assert all("MessageGroupId" in r["attributes"] and "SequenceNumber" in r["attributes"]
               for r in records(host, "Ordered", tag))

    blocked = uuid.uuid4().hex
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"tag": blocked, "n": 0, "raise": True}), MessageGroupId="C")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"tag": blocked, "n": 1}), MessageGroupId="C")
    wait_for(lambda: records(host, "Ordered", blocked), 60, what="the failing group's first delivery")
    wait_for(lambda: metric(host, "fnhost_esm_batches_failed_total", "Ordered") >= 1, 30, what="the failed batch")
    advance(host, "30s")
    wait_for(lambda: len([r for r in records(host, "Ordered", blocked) if '"n": 0' in r["body"]]) == 2, 60,
             what="the failed message retried")
    # n=1 never ran ahead of n=0: every event holding it holds n=0 first.
    for event in events(host, "Ordered"):
        bodies = [r["body"] for r in event["Records"] if blocked in r["body"]]
        if any('"n": 1' in b for b in bodies):
            assert '"n": 0' in bodies[0]


def test_messages_no_filter_matches_are_deleted_unseen(host, sqs):
    url = queue_url(sqs, "FilteredQueue")
    tag = uuid.uuid4().hex
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"tag": tag, "kind": "order"}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"tag": tag, "kind": "refund"}))
    sqs.send_message(QueueUrl=url, MessageBody=f"plain {tag}")
    sqs.send_message(QueueUrl=url, MessageBody=f"urgent {tag}",
                     MessageAttributes={"Priority": {"DataType": "String", "StringValue": "high"}})
    wait_for(lambda: len(records(host, "Filtered", tag)) == 2 and counts(sqs, url) == (0, 0), 60,
             what="two matches delivered and the queue empty")
    assert sorted(r["body"] for r in records(host, "Filtered", tag)) == sorted(
        [json.dumps({"tag": tag, "kind": "order"}), f"urgent {tag}"])
    assert metric(host, "fnhost_esm_messages_filtered_total", "Filtered") == 2


def test_a_batching_window_gathers_until_the_host_clock_passes_it(host, sqs):
    url = queue_url(sqs, "WindowedQueue")
    tag = uuid.uuid4().hex
    send(sqs, url, [{"tag": tag, "n": n} for n in range(3)])
    wait_for(lambda: counts(sqs, url) == (0, 3), 30, what="the poller to hold the three messages")
    advance(host, "29s")
    assert records(host, "Windowed", tag) == [], "the window is still open"
    advance(host, "1s")
    wait_for(lambda: records(host, "Windowed", tag), 60, what="the window's batch")
    assert [len(e["Records"]) for e in events(host, "Windowed") if tag in json.dumps(e)] == [3]


def test_an_advance_returns_after_what_fell_due_was_handed_over(host, sqs):
    """A window closing and a failed message's return fall due inside an advance: when ``fnhost clock
    advance`` returns they have been invoked and settled, so the test looks at once, without waiting."""
    url = queue_url(sqs, "SettlingQueue")
    tag = uuid.uuid4().hex
    ok, bad = send(sqs, url, [{"tag": tag, "n": 1}, {"tag": tag, "fail": True}])
    wait_for(lambda: counts(sqs, url) == (0, 2), 30, what="the poller to hold both messages")
    assert metric(host, "fnhost_esm_batches_invoked_total", "Settling") == 0
    advance(host, "10s")
    # The window closed: the batch ran, the success is deleted, the failure stays hidden until 30 s after its receive.
    assert metric(host, "fnhost_esm_batches_invoked_total", "Settling") == 1
    assert counts(sqs, url) == (0, 1)
    advance(host, "30s")
    # At +30 s the failure returned and opened a new window; at +40 s that window's batch ran.
    assert metric(host, "fnhost_esm_batches_invoked_total", "Settling") == 2
    assert counts(sqs, url) == (0, 1)
    delivered = wait_for(lambda: (lambda found: found if len(found) == 3 else None)(records(host, "Settling", tag)),
                         30, what="both batches in the function's log")
    assert [r["messageId"] for r in delivered] == [ok, bad, bad]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in delivered] == ["1", "1", "2"]


def test_a_function_error_keeps_the_whole_batch(host, sqs):
    url = queue_url(sqs, "WindowedQueue")
    tag = uuid.uuid4().hex
    ids = send(sqs, url, [{"tag": tag, "raise": True}, {"tag": tag, "n": 1}])
    wait_for(lambda: counts(sqs, url) == (0, 2), 30, what="the poller to hold both messages")
    advance(host, "30s")
    wait_for(lambda: len(records(host, "Windowed", tag)) == 2, 60, what="the failing batch")
    wait_for(lambda: metric(host, "fnhost_esm_batches_failed_total", "Windowed") >= 1, 30, what="the failure")
    assert counts(sqs, url) == (0, 2), "neither message was deleted"
    # The batch is hidden for window + timeout + 30 s (70 s), then gathered for another 30 s window.
    advance(host, "70s")
    wait_for(lambda: counts(sqs, url) == (0, 2), 30, what="the poller to hold both again")
    advance(host, "30s")
    wait_for(lambda: len(records(host, "Windowed", tag)) == 4, 60, what="the whole batch retried")
    second = [r for r in records(host, "Windowed", tag)][2:]
    assert {r["messageId"] for r in second} == set(ids)
    assert {r["attributes"]["ApproximateReceiveCount"] for r in second} == {"2"}


def test_pollers_scale_with_a_backlog_up_to_the_maximum_concurrency(host, sqs):
    url = queue_url(sqs, "CappedQueue")
    tag = uuid.uuid4().hex
    ids = send(sqs, url, [{"tag": tag, "n": n, "sleep": 0.3} for n in range(20)])
    seen = []

    def drained():
        seen.append(metric(host, "fnhost_concurrent_executions", "Capped"))
        return counts(sqs, url) == (0, 0)

    wait_for(drained, 60, interval=0.05, what="the backlog drained")
    assert max(seen) == 2, "the backlog scaled the mapping up to MaximumConcurrency 2 and no further"
    wait_for(lambda: sorted(r["messageId"] for r in records(host, "Capped", tag)) == sorted(ids), 30,
             what="every message delivered once")


def test_throttled_batches_go_back_to_the_queue_and_are_not_lost(host, sqs):
    client = lambda_client(host.endpoint)
    holder = threading.Thread(target=lambda: client.invoke(FunctionName="Narrow", Payload=b'{"sleep": 3}'))
    holder.start()
    try:
        wait_for(lambda: metric(host, "fnhost_concurrent_executions", "Narrow") >= 1, 30,
                 what="the direct invoke to hold Narrow's one unit of concurrency")
        url = queue_url(sqs, "NarrowQueue")
        tag = uuid.uuid4().hex
        ids = send(sqs, url, [{"tag": tag, "n": n} for n in range(5)])
        wait_for(lambda: metric(host, "fnhost_esm_batches_throttled_total", "Narrow") >= 1, 30, what="a throttle")
    finally:
        holder.join(timeout=30)
    wait_for(lambda: {r["messageId"] for r in records(host, "Narrow", tag)} == set(ids), 60,
             what="every throttled message delivered")
    assert len(records(host, "Narrow", tag)) == 5, "each delivered exactly once"
    wait_for(lambda: counts(sqs, url) == (0, 0), 30, what="the queue to be empty")


# --- the mapping API (boto3 and the aws CLI) ---------------------------------------------------


def test_template_mappings_are_listed_and_read_through_boto3(host, sqs):
    client = lambda_client(host.endpoint)
    tag = uuid.uuid4().hex
    send(sqs, queue_url(sqs, "BatchQueue"), [{"tag": tag}])
    wait_for(lambda: records(host, "Batches", tag), 60, what="a processed batch")
    listed = client.list_event_source_mappings()["EventSourceMappings"]
    assert len(listed) == 8
    batches = client.list_event_source_mappings(FunctionName="Batches")["EventSourceMappings"]
    assert [m["EventSourceArn"] for m in batches] == [f"arn:aws:sqs:us-east-1:{ACCOUNT}:BatchQueue"]
    mapping = client.get_event_source_mapping(UUID=batches[0]["UUID"])
    assert mapping["State"] == "Enabled"
    assert mapping["BatchSize"] == 10
    assert mapping["FunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:Batches"
    wait_for(lambda: client.get_event_source_mapping(UUID=batches[0]["UUID"])["LastProcessingResult"] == "OK", 30,
             what="LastProcessingResult OK")
    assert mapping["EventSourceMappingArn"].endswith(":event-source-mapping:" + mapping["UUID"])
    windowed = client.list_event_source_mappings(
        EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:WindowedQueue")["EventSourceMappings"]
    assert windowed[0]["MaximumBatchingWindowInSeconds"] == 30 and windowed[0]["BatchSize"] == 50
    filtered = client.list_event_source_mappings(FunctionName="Filtered")["EventSourceMappings"][0]
    assert len(filtered["FilterCriteria"]["Filters"]) == 2
    page = client.list_event_source_mappings(MaxItems=4)
    rest = client.list_event_source_mappings(Marker=page["NextMarker"])
    assert len(page["EventSourceMappings"]) == 4 and len(rest["EventSourceMappings"]) == 4
    assert "NextMarker" not in rest


def test_mappings_are_created_updated_disabled_and_deleted_at_run_time(host, sqs):
    client = lambda_client(host.endpoint)
    name = "runtime-" + uuid.uuid4().hex[:8]
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"
    created = client.create_event_source_mapping(FunctionName="Batches", EventSourceArn=arn, BatchSize=5,
                                                 FunctionResponseTypes=["ReportBatchItemFailures"])
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating" and created["BatchSize"] == 5
    tag = uuid.uuid4().hex
    send(sqs, url, [{"tag": tag, "n": 1}])
    wait_for(lambda: records(host, "Batches", tag), 60, what="delivery through the created mapping")

    updated = client.update_event_source_mapping(UUID=created["UUID"], Enabled=False, BatchSize=7)
    assert updated["State"] == "Updating" and updated["BatchSize"] == 7
    assert client.get_event_source_mapping(UUID=created["UUID"])["State"] == "Disabled"
    tag2 = uuid.uuid4().hex
    send(sqs, url, [{"tag": tag2, "n": 2}])
    # Disabled: the message stays visible on the queue.
    assert wait_for(lambda: counts(sqs, url) == (1, 0), 30, what="the message to wait on the queue")
    assert records(host, "Batches", tag2) == []
    client.update_event_source_mapping(UUID=created["UUID"], Enabled=True)
    wait_for(lambda: records(host, "Batches", tag2), 60, what="delivery after enabling")

    deleted = client.delete_event_source_mapping(UUID=created["UUID"])
    assert deleted["State"] == "Deleting"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_event_source_mapping(UUID=created["UUID"])


def test_invalid_mapping_requests_get_lambdas_errors(host, sqs):
    client = lambda_client(host.endpoint)
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:BatchQueue"
    fifo = f"arn:aws:sqs:us-east-1:{ACCOUNT}:OrderedQueue.fifo"
    for kwargs, fragment in [
        (dict(EventSourceArn=fifo, BatchSize=20), "FIFO"),
        (dict(BatchSize=11), "Maximum batch window"),
        (dict(StartingPosition="LATEST"), "StartingPosition"),
        (dict(EventSourceArn=fifo, MaximumBatchingWindowInSeconds=5), "FIFO"),
        (dict(EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:missing"), "does not exist"),
        (dict(FilterCriteria={"Filters": [{"Pattern": "not json"}]}), "Invalid filter pattern definition"),
    ]:
        arguments = {"FunctionName": "Batches", "EventSourceArn": arn, **kwargs}
        with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
            client.create_event_source_mapping(**arguments)
        assert fragment in str(excinfo.value), (kwargs, str(excinfo.value))
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.create_event_source_mapping(FunctionName="Nope", EventSourceArn=arn)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_event_source_mapping(UUID=str(uuid.uuid4()))
    # What boto3 would refuse to send: raw requests get AWS-shaped errors, never a crash.
    for body in [b'{"FunctionName": "Batches", "EventSourceArn": "%s", "BatchSize": 0}' % arn.encode(),
                 b'{"FunctionName": "Batches", "EventSourceArn": "%s", "BatchSize": "ten"}' % arn.encode(),
                 b'{"FunctionName": "Batches", "EventSourceArn": "%s", "ScalingConfig": {"MaximumConcurrency": 1}}'
                 % arn.encode(), b"[1, 2", b'{"FunctionName": 7}']:
        request = urllib.request.Request(host.endpoint + "/2015-03-31/event-source-mappings/", data=body,
                                         method="POST")
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            urllib.request.urlopen(request)
        assert excinfo.value.code == 400, body
        assert excinfo.value.headers["x-amzn-ErrorType"] in (
            "InvalidParameterValueException", "ValidationException", "InvalidRequestContentException"), body
    assert lambda_client(host.endpoint).list_functions()["Functions"], "the host still serves"


def test_the_aws_cli_lists_and_reads_mappings(host, aws_cli):
    listed = aws_cli(host.endpoint, "list-event-source-mappings", "--function-name", "Ordered")
    assert listed.returncode == 0, listed.stderr
    mappings = json.loads(listed.stdout)["EventSourceMappings"]
    assert [m["EventSourceArn"] for m in mappings] == [f"arn:aws:sqs:us-east-1:{ACCOUNT}:OrderedQueue.fifo"]
    got = aws_cli(host.endpoint, "get-event-source-mapping", "--uuid", mappings[0]["UUID"])
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["BatchSize"] == 3
