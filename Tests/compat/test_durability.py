"""Nothing acknowledged is lost: the host is killed with SIGKILL in the middle of a burst of SQS
sends and Event invokes, and every message and event it answered for is in the state database."""

from __future__ import annotations

import signal
import sqlite3
import threading
from pathlib import Path

import boto3
from botocore.config import Config

import subprocess

from conftest import FIXTURE_TEMPLATE, FNHOST_BIN, lambda_client, start_host, wait_for

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Busy:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.handler
      CodeUri: {code}
      ReservedConcurrentExecutions: 1
  Burst:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: burst
"""

BURST = 1000


def test_a_kill_during_a_burst_loses_no_acknowledged_message_or_event(tmp_path: Path):
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.format(code=FIXTURE_TEMPLATE.parent.parent / "functions" / "instructed"))
    host = start_host(template, tmp_path / "host")
    messages: list[str] = []
    events: list[str] = []
    stop = threading.Event()
    no_retries = Config(retries={"max_attempts": 0}, connect_timeout=2, read_timeout=10)

    def send_messages():
        sqs = boto3.client("sqs", endpoint_url=host.endpoint, region_name="us-east-1", aws_access_key_id="test",
                           aws_secret_access_key="test", config=no_retries)
        url = f"{host.endpoint}/123456789012/burst"
        for index in range(BURST):
            if stop.is_set():
                return
            try:
                messages.append(sqs.send_message(QueueUrl=url, MessageBody=f"m{index}")["MessageId"])
            except Exception:
                return

    def send_events():
        client = lambda_client(host.endpoint)
        for index in range(BURST):
            if stop.is_set():
                return
            try:
                response = client.invoke(FunctionName="Busy", InvocationType="Event",
                                         Payload=f'{{"sleep": 30, "n": {index}}}'.encode())
                events.append(response["ResponseMetadata"]["RequestId"])
            except Exception:
                return

    threads = [threading.Thread(target=send_messages), threading.Thread(target=send_events)]
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: len(messages) >= BURST // 2 and len(events) >= BURST // 2, 60,
                 what="half of the burst acknowledged")
        host.process.send_signal(signal.SIGKILL)
        host.process.wait(timeout=5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        stop.set()
        host.kill_hard()

    acknowledged_messages, acknowledged_events = set(messages), set(events)
    assert len(acknowledged_messages) >= BURST // 2 and len(acknowledged_events) >= BURST // 2
    database = sqlite3.connect(tmp_path / "host" / "state" / "fnhost.sqlite")
    stored_messages = {row[0] for row in database.execute("SELECT messageID FROM sqsMessage WHERE queue = 'burst'")}
    stored_events = {row[0] for row in database.execute("SELECT requestID FROM asyncInvocation")}
    assert acknowledged_messages - stored_messages == set()
    assert acknowledged_events - stored_events == set()

    # Those events are not lost either when their function leaves the template: listed, and named at start-up.
    listing = subprocess.run([str(FNHOST_BIN), "queues", "--state-dir", str(tmp_path / "host" / "state")],
                             capture_output=True, text=True, check=True).stdout
    busy = next(line for line in listing.splitlines() if line.startswith("Busy "))
    assert int(busy.split()[1]) == len(stored_events), listing
    template.write_text(TEMPLATE.format(code=FIXTURE_TEMPLATE.parent.parent / "functions" / "instructed")
                        .replace("  Busy:", "  Renamed:"))
    host = start_host(template, tmp_path / "host")
    try:
        wait_for(lambda: "not in the template" in host.stderr(), 10, what="the warning about Busy's events")
        assert "function.name=Busy" in host.stderr() or "Busy" in host.stderr()
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]

