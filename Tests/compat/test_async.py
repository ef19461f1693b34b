"""Asynchronous (Event) invocation: durable queue, retries, event age, destinations, EventInvokeConfig API.

Hosts serve Tests/Fixtures/async/template.yaml.  ``Recorder`` prints every event it receives as
``RECORDED <json>`` in its log, so destination records are read back from its log file (polled).
Retry delays are shortened with ``--async-retry-delay 0.2``; event-age tests run the host on its
virtual clock (``--virtual-clock``) and move it with ``fnhost clock advance`` (MaximumEventAgeInSeconds
cannot go below 60).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import uuid
from pathlib import Path

import boto3
import pytest

from conftest import FNHOST_BIN, REPO, lambda_client, start_host, wait_for

ASYNC_TEMPLATE = REPO / "Tests" / "Fixtures" / "async" / "template.yaml"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.fixture(scope="module")
def async_host(tmp_path_factory):
    host = start_host(ASYNC_TEMPLATE, tmp_path_factory.mktemp("async-host"), "--async-retry-delay", "0.2")
    try:
        yield host
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


@pytest.fixture(scope="module")
def async_lambda(async_host):
    return lambda_client(async_host.endpoint)


def records(host) -> list[dict]:
    return [json.loads(line.split("RECORDED ", 1)[1]) for line in host.log_text("Recorder").splitlines()
            if "RECORDED " in line]


def record_for(host, marker: str):
    """The Recorder's record whose request payload carries ``marker``."""
    def find():
        return next((r for r in records(host) if marker in json.dumps(r.get("requestPayload"))), None)
    return find


def send_event(client, name: str, event) -> str:
    response = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(event).encode())
    assert response["StatusCode"] == 202
    return response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_on_success_delivers_the_invocation_record_to_a_function(async_host, async_lambda):
    marker = f"ok-{uuid.uuid4()}"
    request_id = send_event(async_lambda, "Succeeds", {"print": [marker]})
    record = wait_for(record_for(async_host, marker), 30, what="the OnSuccess record")
    assert list(record) == ["version", "timestamp", "requestContext", "requestPayload", "responseContext",
                            "responsePayload"]
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z") and len(record["timestamp"]) == 24
    assert record["requestContext"] == {"requestId": request_id, "functionArn": ARN + "Succeeds:$LATEST",
                                        "condition": "Success", "approximateInvokeCount": 1}
    assert record["requestPayload"] == {"print": [marker]}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"echo": {"print": [marker]}}


def test_errors_are_retried_with_the_same_request_id_then_sent_on_failure(async_host, async_lambda):
    marker = f"boom-{uuid.uuid4()}"
    request_id = send_event(async_lambda, "Flaky", {"error": marker})
    record = wait_for(record_for(async_host, marker), 30, what="the OnFailure record")
    assert record["requestContext"] == {"requestId": request_id, "functionArn": ARN + "Flaky:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 2}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == marker
    assert record["responsePayload"]["errorType"] == "ValueError"
    # MaximumRetryAttempts 1: two attempts, both with the caller's request id.
    assert async_host.log_text("Flaky").count(f"START RequestId: {request_id}") == 2


def test_event_invoke_config_api(async_lambda):
    client = async_lambda
    missing = client.exceptions.ResourceNotFoundException
    with pytest.raises(missing) as raised:
        client.get_function_event_invoke_config(FunctionName="Configurable")
    assert raised.value.response["Error"]["Message"] == (
        f"The function {ARN}Configurable:$LATEST doesn't have an EventInvokeConfig")
    with pytest.raises(missing):
        client.update_function_event_invoke_config(FunctionName="Configurable", MaximumRetryAttempts=1)

    put = client.put_function_event_invoke_config(
        FunctionName="Configurable", MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": ARN + "Recorder"}})
    assert put["FunctionArn"] == ARN + "Configurable:$LATEST"
    assert put["MaximumRetryAttempts"] == 1 and "MaximumEventAgeInSeconds" not in put
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": ARN + "Recorder"}}
    assert put["LastModified"].year >= 2024  # epoch seconds, parsed by botocore

    updated = client.update_function_event_invoke_config(FunctionName="Configurable", MaximumEventAgeInSeconds=120)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 120)
    assert updated["DestinationConfig"]["OnFailure"] == {"Destination": ARN + "Recorder"}

    replaced = client.put_function_event_invoke_config(FunctionName="Configurable", MaximumEventAgeInSeconds=300)
    assert "MaximumRetryAttempts" not in replaced
    assert replaced["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}

    got = client.get_function_event_invoke_config(FunctionName="Configurable")
    assert got["MaximumEventAgeInSeconds"] == 300
    listed = client.list_function_event_invoke_configs(FunctionName="Configurable")["FunctionEventInvokeConfigs"]
    assert [c["MaximumEventAgeInSeconds"] for c in listed] == [300]

    with pytest.raises(client.exceptions.ClientError) as raised:
        client.put_function_event_invoke_config(FunctionName="Configurable", MaximumRetryAttempts=3)
    assert "less than or equal to 2" in raised.value.response["Error"]["Message"]

    delete = client.delete_function_event_invoke_config(FunctionName="Configurable")
    assert delete["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.list_function_event_invoke_configs(FunctionName="Configurable")["FunctionEventInvokeConfigs"] == []
    with pytest.raises(missing):
        client.delete_function_event_invoke_config(FunctionName="Configurable")

    # The template's configuration is served too.
    flaky = client.get_function_event_invoke_config(FunctionName="Flaky")
    assert (flaky["MaximumRetryAttempts"], flaky["MaximumEventAgeInSeconds"]) == (1, 3600)


def test_twenty_events_against_a_reserved_concurrency_of_two_all_complete(async_host, async_lambda):
    tag = uuid.uuid4().hex[:8]
    for index in range(20):
        send_event(async_lambda, "Narrow", {"sleep": 0.05, "print": [f"narrow-{tag}-{index}"]})
    wait_for(lambda: all(f"narrow-{tag}-{i}\n" in async_host.log_text("Narrow") for i in range(20)), 60,
             what="all 20 events of Narrow to run")
    # Two at a time: never more than two workers.
    assert async_host.log_text("Narrow").count("Init Duration") <= 2


def test_metrics_report_the_async_queue(async_host, async_lambda):
    import urllib.request

    marker = f"metrics-{uuid.uuid4()}"
    send_event(async_lambda, "Flaky", {"error": marker})
    wait_for(record_for(async_host, marker), 30, what="the OnFailure record")
    text = urllib.request.urlopen(async_host.endpoint + "/metrics", timeout=10).read().decode()
    assert 'fnhost_async_queue_depth{function_name="Flaky"}' in text
    assert 'fnhost_async_oldest_event_age_seconds{function_name="Flaky"}' in text
    retries = [l for l in text.splitlines() if l.startswith('fnhost_async_retries_total{function_name="Flaky"}')]
    assert retries and float(retries[0].split()[-1]) >= 1
    failures = [l for l in text.splitlines() if l.startswith("fnhost_async_failures_total")
                and 'function_name="Flaky"' in l and 'condition="RetriesExhausted"' in l]
    assert failures and float(failures[0].split()[-1]) >= 1, text


def test_maximum_event_age_looks_ahead_at_the_next_retry(tmp_path):
    # The host clock is virtual: the 60 s retry delay passes when the test advances it.
    host = start_host(ASYNC_TEMPLATE, tmp_path, "--virtual-clock")
    try:
        client = lambda_client(host.endpoint)
        client.invoke(FunctionName="Configurable", Payload=b"{}")  # warm: a cold start would age the event
        destination = {"OnFailure": {"Destination": ARN + "Recorder"}}

        # 60 s: Lambda does not wait for a retry that would end past the maximum age.
        client.put_function_event_invoke_config(FunctionName="Configurable", MaximumEventAgeInSeconds=60,
                                                DestinationConfig=destination)
        marker = f"age60-{uuid.uuid4()}"
        request_id = send_event(client, "Configurable", {"error": marker})
        record = wait_for(record_for(host, marker), 30, what="the EventAgeExceeded record (60 s)")
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 1
        assert record["requestContext"]["requestId"] == request_id
        assert record["responseContext"]["functionError"] == "Unhandled"

        # 90 s: the retry after 60 s fits, the one after another 120 s does not.
        client.put_function_event_invoke_config(FunctionName="Configurable", MaximumEventAgeInSeconds=90,
                                                DestinationConfig=destination)
        marker = f"age90-{uuid.uuid4()}"
        request_id = send_event(client, "Configurable", {"error": marker})
        # The first attempt failed and its retry is scheduled 60 s (of the host clock) later.
        wait_for(lambda: any("async invocation failed, retrying" in line and request_id in line
                             for line in host.stderr().splitlines()), 30, what="the first attempt's retry")
        assert not any(marker in json.dumps(r.get("requestPayload")) for r in records(host))
        advanced = subprocess.run([str(FNHOST_BIN), "clock", "advance", "61s", "--endpoint", host.endpoint],
                                  capture_output=True, text=True, timeout=60)
        assert advanced.returncode == 0, advanced.stderr
        record = wait_for(record_for(host, marker), 30, what="the EventAgeExceeded record (90 s)")
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 2
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_an_event_that_outlives_its_maximum_age_waiting_for_concurrency_is_not_run(tmp_path):
    # Durable has a reservation of 1: a synchronous invoke holds it while the event waits for it.
    host = start_host(ASYNC_TEMPLATE, tmp_path, "--virtual-clock")
    try:
        client = lambda_client(host.endpoint)
        client.invoke(FunctionName="Durable", Payload=b"{}")  # warm
        client.put_function_event_invoke_config(
            FunctionName="Durable", MaximumEventAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": ARN + "Recorder"}})
        holder = threading.Thread(
            target=lambda: lambda_client(host.endpoint).invoke(FunctionName="Durable", Payload=b'{"sleep": 4}'))
        holder.start()
        wait_for(lambda: host.log_text("Durable").count("START RequestId") == 2, 20, what="the holding invoke")
        marker = f"waited-{uuid.uuid4()}"
        request_id = send_event(client, "Durable", {"print": [marker]})

        # Its attempt has begun (attempts are counted before they start) and waits for the reservation.
        def attempt_started():
            with sqlite3.connect(f"file:{tmp_path / 'state' / 'fnhost.sqlite'}?mode=ro", uri=True) as db:
                row = db.execute("SELECT attempts FROM asyncInvocation WHERE requestID = ?", (request_id,)).fetchone()
            return row is not None and row[0] == 1
        wait_for(attempt_started, 20, what="the event's attempt to wait for concurrency")
        advanced = subprocess.run([str(FNHOST_BIN), "clock", "advance", "61s", "--endpoint", host.endpoint],
                                  capture_output=True, text=True, timeout=60)
        assert advanced.returncode == 0, advanced.stderr
        holder.join(timeout=30)
        record = wait_for(record_for(host, marker), 30, what="the EventAgeExceeded record")
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 0
        assert record["requestContext"]["requestId"] == request_id
        assert marker not in host.log_text("Durable")
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_sigkill_of_the_host_loses_no_accepted_event(tmp_path):
    host = start_host(ASYNC_TEMPLATE, tmp_path)
    markers = [f"durable-{uuid.uuid4().hex[:8]}-{i}" for i in range(8)]
    try:
        client = lambda_client(host.endpoint)
        # One at a time, each 0.5 s: when the first is running the others are still queued.
        for marker in markers:
            send_event(client, "Durable", {"sleep": 0.5, "print": [marker]})
        wait_for(lambda: markers[0] in host.log_text("Durable"), 30, what="the first event to run")
        host.process.send_signal(signal.SIGKILL)
        host.process.wait(timeout=10)
        ran_before = [m for m in markers if f"{m}\n" in host.log_text("Durable")]
        assert len(ran_before) < len(markers), "every event ran before the kill: the test proves nothing"
    finally:
        host.kill_hard()

    restarted = start_host(ASYNC_TEMPLATE, tmp_path)
    try:
        wait_for(lambda: all(f"{m}\n" in restarted.log_text("Durable") for m in markers), 60,
                 what="every accepted event to run after the restart")
    finally:
        assert restarted.terminate(timeout=10) == 0, restarted.stderr()[-2000:]


def receive_one(sqs, queue_name: str, marker: str):
    """Long-polls ``queue_name`` until a message whose body carries ``marker`` arrives."""
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]

    def poll():
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages", [])
        return next((m for m in messages if marker in m["Body"]), None)
    return wait_for(poll, 30, interval=0, what=f"a message carrying {marker} on {queue_name}")


@pytest.fixture(scope="module")
def async_sqs(async_host):
    return boto3.client("sqs", endpoint_url=async_host.endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def test_on_success_sends_the_record_to_an_sqs_queue(async_lambda, async_sqs):
    marker = f"queued-{uuid.uuid4()}"
    request_id = send_event(async_lambda, "ToQueues", {"print": [marker]})
    record = json.loads(receive_one(async_sqs, "SuccessQueue", marker)["Body"])
    assert record["requestContext"] == {"requestId": request_id, "functionArn": ARN + "ToQueues:$LATEST",
                                        "condition": "Success", "approximateInvokeCount": 1}
    assert record["requestPayload"] == {"print": [marker]}
    assert record["responsePayload"] == {"echo": {"print": [marker]}}


def test_a_final_failure_reaches_both_on_failure_and_the_dead_letter_queue(async_lambda, async_sqs):
    marker = f"doomed-{uuid.uuid4()}"
    event = {"error": marker}
    request_id = send_event(async_lambda, "ToQueues", event)
    record = json.loads(receive_one(async_sqs, "FailureQueue", marker)["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    dead = receive_one(async_sqs, "DeadLetters", marker)
    assert json.loads(dead["Body"]) == event
    attributes = dead["MessageAttributes"]
    assert attributes["RequestID"] == {"DataType": "String", "StringValue": request_id}
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert attributes["ErrorMessage"] == {"DataType": "String", "StringValue": marker}
