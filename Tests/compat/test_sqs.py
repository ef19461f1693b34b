"""Embedded SQS-compatible queue through the real boto3 SQS client (JSON protocol).

One host serves Tests/Fixtures/queues/template.yaml (template queues: Plain, work + work-dlq with
maxReceiveCount 2, Patient with a 20 s default long poll, Ordered.fifo).  Tests that need a fresh
queue create one with a unique name.  Visibility tests use 0-1 s timeouts and wait with deadlines.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import urllib.request
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import REPO, start_host, wait_for, FNHOST_BIN

QUEUES_TEMPLATE = REPO / "Tests" / "Fixtures" / "queues" / "template.yaml"
ACCOUNT = "123456789012"


def sqs_client(endpoint: str):
    return boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture(scope="module")
def queue_host(tmp_path_factory):
    host = start_host(QUEUES_TEMPLATE, tmp_path_factory.mktemp("queue-host"))
    try:
        yield host
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


@pytest.fixture(scope="module")
def sqs(queue_host):
    return sqs_client(queue_host.endpoint)


def fresh_queue(sqs, **attributes) -> str:
    name = "t-" + uuid.uuid4().hex[:12]
    if attributes.get("FifoQueue") == "true":
        name += ".fifo"
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def error_code(excinfo) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error.get("QueryErrorCode", "")


# --- template queues ---------------------------------------------------------------------------

def test_template_queues_are_listed_with_their_attributes(sqs, queue_host):
    urls = sqs.list_queues()["QueueUrls"]
    base = f"{queue_host.endpoint}/{ACCOUNT}/"
    assert {base + n for n in ["Plain", "work", "work-dlq", "Patient", "Ordered.fifo"]} <= set(urls)
    work = sqs.get_queue_attributes(QueueUrl=base + "work", AttributeNames=["All"])["Attributes"]
    assert work["VisibilityTimeout"] == "1"
    assert work["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:work"
    assert json.loads(work["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:work-dlq", "maxReceiveCount": 2}
    plain = sqs.get_queue_attributes(QueueUrl=base + "Plain", AttributeNames=["VisibilityTimeout", "DelaySeconds"])
    assert plain["Attributes"] == {"VisibilityTimeout": "30", "DelaySeconds": "0"}
    ordered = sqs.get_queue_attributes(QueueUrl=base + "Ordered.fifo", AttributeNames=["All"])["Attributes"]
    assert ordered["FifoQueue"] == "true" and ordered["ContentBasedDeduplication"] == "true"
    assert sqs.list_queues(QueueNamePrefix="work")["QueueUrls"] == [base + "work", base + "work-dlq"]


# --- send, receive, delete, MD5s -----------------------------------------------------------------

def test_send_receive_delete_with_spec_md5_vectors(sqs):
    url = fresh_queue(sqs)
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello",
                            MessageAttributes={"Foo": {"DataType": "String", "StringValue": "Bar"}})
    assert sent["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    assert sent["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    sent2 = sqs.send_message(QueueUrl=url, MessageBody="x",
                             MessageAttributes={"MyAttribute": {"DataType": "String", "StringValue": "foobar"}})
    assert sent2["MD5OfMessageAttributes"] == "adb59cd4678ea5a855436b949cd07ab6"

    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                              MessageSystemAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == ["hello", "x"]
    first = got[0]
    assert first["MessageId"] == sent["MessageId"]
    assert first["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert first["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    assert first["MessageAttributes"] == {"Foo": {"DataType": "String", "StringValue": "Bar"}}
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(first["Attributes"])

    for message in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_attribute_selection_and_binary_values(sqs):
    url = fresh_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes={
        "app.kind": {"DataType": "String", "StringValue": "k"},
        "app.blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\x02"},
        "other": {"DataType": "Number", "StringValue": "42"},
    })
    message = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["app.*"], VisibilityTimeout=0)["Messages"][0]
    assert set(message["MessageAttributes"]) == {"app.kind", "app.blob"}
    assert message["MessageAttributes"]["app.blob"]["BinaryValue"] == b"\x00\x01\x02"
    assert "Attributes" not in message
    bare = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert "MessageAttributes" not in bare and "MD5OfMessageAttributes" not in bare
    assert bare["Attributes"] == {"ApproximateReceiveCount": "2"}


def test_batch_send_receive_and_delete(sqs):
    url = fresh_queue(sqs)
    result = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": f"m{i}", "MessageBody": f"body-{i}"} for i in range(10)])
    assert sorted(e["Id"] for e in result["Successful"]) == [f"m{i}" for i in range(10)]
    assert not result.get("Failed")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == [f"body-{i}" for i in range(10)]
    deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "ReceiptHandle": messages[0]["ReceiptHandle"]},
        {"Id": "bad", "ReceiptHandle": "not-a-handle"}])
    assert [e["Id"] for e in deleted["Successful"]] == ["ok"]
    assert [(e["Id"], e["Code"], e["SenderFault"]) for e in deleted["Failed"]] == [("bad", "ReceiptHandleIsInvalid", True)]

    partial = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "good", "MessageBody": "fine"}, {"Id": "late", "MessageBody": "x", "DelaySeconds": 901}])
    assert [e["Id"] for e in partial["Successful"]] == ["good"]
    assert [(e["Id"], e["Code"]) for e in partial["Failed"]] == [("late", "InvalidParameterValue")]


def test_batch_rules(sqs):
    url = fresh_queue(sqs)
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message_batch(QueueUrl=url, Entries=[])
    assert error_code(excinfo)[1] == "EmptyBatchRequest"
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": "x"} for i in range(11)])
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
    with pytest.raises(sqs.exceptions.InvalidBatchEntryId):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "no spaces", "MessageBody": "x"}])
    with pytest.raises(sqs.exceptions.BatchRequestTooLong):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": "x" * 200_000} for i in range(6)])


# --- visibility, receive counts, redrive -----------------------------------------------------------

def test_visibility_timeout_hides_then_returns_with_a_new_handle(sqs):
    url = fresh_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1, AttributeNames=["All"])["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    second = wait_for(lambda: sqs.receive_message(QueueUrl=url, AttributeNames=["All"]).get("Messages"), 10,
                      what="the message to become visible again")[0]
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    assert second["Attributes"]["ApproximateFirstReceiveTimestamp"] == first["Attributes"]["ApproximateFirstReceiveTimestamp"]


def test_change_message_visibility(sqs):
    url = fresh_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="v")
    message = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"][0]
    assert again["MessageId"] == message["MessageId"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    with pytest.raises(sqs.exceptions.MessageNotInflight):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"], VisibilityTimeout=5)


def test_redrive_moves_after_max_receive_count_keeping_the_message(sqs, queue_host):
    base = f"{queue_host.endpoint}/{ACCOUNT}/"
    work, dlq = base + "work", base + "work-dlq"
    sent = sqs.send_message(QueueUrl=work, MessageBody="poison",
                            MessageAttributes={"Foo": {"DataType": "String", "StringValue": "Bar"}})
    for count in ("1", "2"):
        message = sqs.receive_message(QueueUrl=work, VisibilityTimeout=0, AttributeNames=["All"])["Messages"][0]
        assert message["Attributes"]["ApproximateReceiveCount"] == count
    # The third attempt finds the count at maxReceiveCount (2): the message moves instead.
    assert "Messages" not in sqs.receive_message(QueueUrl=work)
    moved = wait_for(lambda: sqs.receive_message(
        QueueUrl=dlq, AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages"), 10,
        what="the message in the dead-letter queue")[0]
    assert moved["MessageId"] == sent["MessageId"]
    assert moved["Body"] == "poison"
    assert moved["MessageAttributes"] == {"Foo": {"DataType": "String", "StringValue": "Bar"}}
    assert moved["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:work"
    assert moved["Attributes"]["ApproximateReceiveCount"] == "3"
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=moved["ReceiptHandle"])


def test_redrive_policy_set_through_the_api(sqs):
    dlq = fresh_queue(sqs)
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = fresh_queue(sqs, RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    sqs.send_message(QueueUrl=url, MessageBody="once")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert sqs.receive_message(QueueUrl=dlq)["Messages"][0]["Body"] == "once"


def test_delay_seconds_hides_a_new_message(sqs):
    url = fresh_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    started = time.monotonic()
    message = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)["Messages"][0]
    assert message["Body"] == "later"
    assert time.monotonic() - started < 5, "the long poll should wake when the delay ends"


# --- long polling ---------------------------------------------------------------------------------

def test_long_poll_waits_then_returns_empty(sqs):
    url = fresh_queue(sqs)
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    assert 0.9 <= time.monotonic() - started < 5


def test_long_poll_wakes_as_soon_as_a_message_is_sent(sqs, queue_host):
    url = f"{queue_host.endpoint}/{ACCOUNT}/Patient"  # ReceiveMessageWaitTimeSeconds: 20
    sender = sqs_client(queue_host.endpoint)
    timer = threading.Timer(0.5, lambda: sender.send_message(QueueUrl=url, MessageBody="wake"))
    started = time.monotonic()
    timer.start()
    try:
        messages = sqs.receive_message(QueueUrl=url)["Messages"]  # the queue's default wait applies
    finally:
        timer.cancel()
    elapsed = time.monotonic() - started
    assert [m["Body"] for m in messages] == ["wake"]
    assert 0.4 <= elapsed < 5, f"long poll returned after {elapsed:.2f} s"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])


# --- queue management and errors ------------------------------------------------------------------

def test_errors_are_modeled_exceptions(sqs, queue_host):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as excinfo:
        sqs.get_queue_url(QueueName="no-such-queue")
    assert excinfo.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"{queue_host.endpoint}/{ACCOUNT}/no-such-queue", MessageBody="x")
    url = fresh_queue(sqs)
    with pytest.raises(ClientError) as excinfo:
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11)
    assert error_code(excinfo) == ("InvalidParameterValue", "InvalidParameterValueException")
    assert "MaxNumberOfMessages" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage")
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="bad \u0001 char")
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])


def test_create_queue_is_idempotent_and_detects_conflicts(sqs):
    name = "c-" + uuid.uuid4().hex[:10]
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    assert url.endswith(f"/{ACCOUNT}/{name}")
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "5"})["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists):
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "6"})
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7"})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "7"}
    with pytest.raises(ClientError) as excinfo:
        sqs.create_queue(QueueName="bad name")
    assert error_code(excinfo)[0] == "InvalidParameterValue"


def test_purge_and_delete_queue(sqs):
    url = fresh_queue(sqs)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": "x"} for i in range(3)])
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress) as excinfo:
        sqs.purge_queue(QueueUrl=url)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.receive_message(QueueUrl=url)
    assert url not in sqs.list_queues().get("QueueUrls", [])


# --- FIFO ----------------------------------------------------------------------------------------

def test_fifo_requires_a_group_and_deduplicates(sqs, queue_host):
    url = f"{queue_host.endpoint}/{ACCOUNT}/Ordered.fifo"
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert error_code(excinfo)[0] == "MissingParameter"
    body = "dedup-" + uuid.uuid4().hex
    first = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    again = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    assert again["MessageId"] == first["MessageId"] and again["SequenceNumber"] == first["SequenceNumber"]
    explicit = fresh_queue(sqs, FifoQueue="true")
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=explicit, MessageBody="x", MessageGroupId="g")
    assert error_code(excinfo)[0] == "InvalidParameterValue"
    a = sqs.send_message(QueueUrl=explicit, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d1")
    b = sqs.send_message(QueueUrl=explicit, MessageBody="y", MessageGroupId="g", MessageDeduplicationId="d1")
    assert a["MessageId"] == b["MessageId"]
    messages = sqs.receive_message(QueueUrl=explicit, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in messages] == ["x"]
    with pytest.raises(ClientError) as excinfo:
        sqs.send_message(QueueUrl=explicit, MessageBody="z", MessageGroupId="g", MessageDeduplicationId="d2",
                         DelaySeconds=5)
    assert error_code(excinfo)[0] == "InvalidParameterValue"


def test_fifo_in_flight_group_blocks_its_group(sqs):
    url = fresh_queue(sqs, FifoQueue="true", ContentBasedDeduplication="true")
    for body, group in [("a1", "A"), ("a2", "A"), ("b1", "B")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in first] == ["a1"]
    assert first[0]["Attributes"]["MessageGroupId"] == "A" and "SequenceNumber" in first[0]["Attributes"]
    # Group A is in flight: only B is deliverable.
    second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"]
    assert [m["Body"] for m in second] == ["b1"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    third = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in third] == ["a2"]


# --- durability, metrics, CLI ----------------------------------------------------------------------

def test_messages_survive_sigkill_of_the_host(tmp_path):
    host = start_host(QUEUES_TEMPLATE, tmp_path)
    try:
        client = sqs_client(host.endpoint)
        url = f"{host.endpoint}/{ACCOUNT}/Plain"
        sent = [client.send_message(QueueUrl=url, MessageBody=f"keep-{i}")["MessageId"] for i in range(5)]
        client.receive_message(QueueUrl=url, VisibilityTimeout=0)  # one received, visible again at once
        host.process.send_signal(signal.SIGKILL)
        host.process.wait(timeout=10)
    finally:
        host.kill_hard()
    restarted = start_host(QUEUES_TEMPLATE, tmp_path)
    try:
        client = sqs_client(restarted.endpoint)
        url = f"{restarted.endpoint}/{ACCOUNT}/Plain"
        received = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert sorted(m["MessageId"] for m in received) == sorted(sent)
    finally:
        assert restarted.terminate(timeout=10) == 0


def test_queue_depth_in_metrics(sqs, queue_host):
    url = fresh_queue(sqs)
    name = url.rsplit("/", 1)[1]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": "x"} for i in range(3)])
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)
    text = urllib.request.urlopen(f"{queue_host.endpoint}/metrics", timeout=10).read().decode()
    assert f'fnhost_queue_messages{{queue="{name}",state="visible"}} 2' in text
    assert f'fnhost_queue_messages{{queue="{name}",state="in_flight"}} 1' in text


def test_fnhost_queues_lists_depths_from_the_state_dir(sqs, queue_host):
    url = fresh_queue(sqs)
    name = url.rsplit("/", 1)[1]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": "x"} for i in range(4)])
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)
    out = subprocess.run([str(FNHOST_BIN), "queues", "--state-dir", str(queue_host.state_dir / "state")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["QUEUE", "VISIBLE", "IN_FLIGHT", "DELAYED"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows[name] == ["3", "1", "0"]
    assert {"Plain", "work", "work-dlq", "Patient", "Ordered.fifo"} <= set(rows)


def test_sigterm_ends_long_polls_instead_of_waiting_for_them(tmp_path):
    host = start_host(QUEUES_TEMPLATE, tmp_path)
    client = sqs_client(host.endpoint)
    url = f"{host.endpoint}/{ACCOUNT}/Patient"
    result: dict = {}
    poller = threading.Thread(target=lambda: result.update(r=client.receive_message(QueueUrl=url, WaitTimeSeconds=20)))
    poller.start()
    wait_for(lambda: "fnhost_queue_receivers_waiting 1" in urllib.request.urlopen(
        f"{host.endpoint}/metrics", timeout=10).read().decode(), 10, what="the long poll to be parked")
    # SIGTERM must not wait out the poll's 20 s.
    started = time.monotonic()
    status = host.terminate(timeout=10)
    poller.join(timeout=10)
    assert status == 0, host.stderr()[-2000:]
    assert time.monotonic() - started < 10
    assert "Messages" not in result.get("r", {})


def test_change_message_visibility_batch_and_list_paging(sqs):
    url = fresh_queue(sqs)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": f"m{i}", "MessageBody": str(i)} for i in range(2)])
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
    result = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": messages[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "b", "ReceiptHandle": "bogus", "VisibilityTimeout": 0}])
    assert [e["Id"] for e in result["Successful"]] == ["a"]
    assert [(e["Id"], e["Code"]) for e in result["Failed"]] == [("b", "ReceiptHandleIsInvalid")]
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["0"]

    prefix = "page-" + uuid.uuid4().hex[:8]
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        sqs.create_queue(QueueName=name)
    first = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert [u.rsplit("/", 1)[1] for u in first["QueueUrls"]] == names[:2]
    rest = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=first["NextToken"])
    assert [u.rsplit("/", 1)[1] for u in rest["QueueUrls"]] == names[2:] and "NextToken" not in rest
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="none-" + uuid.uuid4().hex)
