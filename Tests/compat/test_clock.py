"""The host clock: ``fnhost serve --virtual-clock``, ``fnhost clock show|advance`` and its control route.

A virtual clock starts at the real time and moves only when told; SQS visibility timeouts follow it
(the same clock drives async retries, see test_async.py, and event-source mappings).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import boto3
import pytest

from conftest import FNHOST_BIN, REPO, start_host

QUEUES_TEMPLATE = REPO / "Tests" / "Fixtures" / "queues" / "template.yaml"


def clock(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(FNHOST_BIN), "clock", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def virtual_host(tmp_path_factory):
    host = start_host(QUEUES_TEMPLATE, tmp_path_factory.mktemp("virtual-clock"), "--virtual-clock")
    try:
        yield host
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def show(endpoint: str) -> dict:
    result = clock("show", "--endpoint", endpoint)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_show_reports_a_virtual_clock_started_at_the_real_time(virtual_host):
    state = show(virtual_host.endpoint)
    assert state["virtual"] is True
    assert abs(state["epochMillis"] / 1000 - time.time()) < 600
    assert state["now"].endswith("Z")
    # It does not move by itself.
    assert show(virtual_host.endpoint)["epochMillis"] == state["epochMillis"]


def test_advance_moves_the_clock_by_exactly_the_duration(virtual_host):
    before = show(virtual_host.endpoint)["epochMillis"]
    result = clock("advance", "1h30m", "--endpoint", virtual_host.endpoint)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["epochMillis"] == before + 5_400_000
    with urllib.request.urlopen(virtual_host.endpoint + "/_fnhost/clock") as answer:
        assert json.loads(answer.read())["epochMillis"] == before + 5_400_000


def test_a_bad_duration_is_refused_by_the_cli_and_the_route(virtual_host):
    result = clock("advance", "soon", "--endpoint", virtual_host.endpoint)
    assert result.returncode != 0 and "soon" in result.stderr
    request = urllib.request.Request(virtual_host.endpoint + "/_fnhost/clock/advance?by=-5s", method="POST")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request)
    assert excinfo.value.code == 400
    assert excinfo.value.headers["x-amzn-ErrorType"] == "ValidationException"


def test_visibility_timeouts_follow_the_virtual_clock(virtual_host):
    sqs = boto3.client("sqs", endpoint_url=virtual_host.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    url = sqs.create_queue(QueueName="clock-visibility", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="tick")
    first = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert first[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    assert clock("advance", "29s", "--endpoint", virtual_host.endpoint).returncode == 0
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert clock("advance", "1s", "--endpoint", virtual_host.endpoint).returncode == 0
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert again[0]["Body"] == "tick"
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_long_poll_wakes_when_the_virtual_clock_makes_a_message_visible(virtual_host):
    sqs = boto3.client("sqs", endpoint_url=virtual_host.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    url = sqs.create_queue(QueueName="clock-delay")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
    advance = subprocess.Popen([str(FNHOST_BIN), "clock", "advance", "15m", "--endpoint", virtual_host.endpoint],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        started = time.monotonic()
        answer = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        assert [m["Body"] for m in answer.get("Messages", [])] == ["later"]
        assert time.monotonic() - started < 15
    finally:
        assert advance.wait(timeout=60) == 0


def test_advancing_a_real_clock_is_refused(tmp_path):
    host = start_host(QUEUES_TEMPLATE, tmp_path)
    try:
        assert show(host.endpoint)["virtual"] is False
        result = clock("advance", "1m", "--endpoint", host.endpoint)
        assert result.returncode == 2
        assert "InvalidParameterValueException" in result.stderr and "--virtual-clock" in result.stderr
    finally:
        assert host.terminate(timeout=10) == 0
