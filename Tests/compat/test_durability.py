"""Nothing acknowledged is lost: the host is killed with SIGKILL in the middle of a burst of SQS
sends and Event invokes, and every message and event it answered for is in the state database."""

from __future__ import annotations

import signal
import socket
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
    _kill_host_once(host, threads, stop, lambda: len(messages) >= BURST // 2 and len(events) >= BURST // 2,
                    "half of the burst acknowledged")

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



def test_a_kill_during_concurrent_event_invokes_loses_no_acknowledged_event(tmp_path: Path):
    """Sixteen keep-alive clients, as `fnhost load` sends them (the serve port queues these from its
    event loop, many to one commit): every 202 given before the kill names a stored event."""
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.format(code=FIXTURE_TEMPLATE.parent.parent / "functions" / "instructed"))
    host = start_host(template, tmp_path / "host")
    body = b'{"sleep": 30}'
    request = (b"POST /2015-03-31/functions/Busy/invocations HTTP/1.1\r\nHost: x\r\nX-Amz-Invocation-Type: Event\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    acknowledged: list[str] = []
    unexpected: list[bytes] = []  # heads other than an empty 202: the test's, not a client thread's, to fail
    stop = threading.Event()

    def client():
        try:
            with socket.create_connection(("127.0.0.1", host.port), timeout=10) as connection:
                received = b""
                while not stop.is_set():
                    connection.sendall(request)
                    while b"\r\n\r\n" not in received:
                        chunk = connection.recv(65536)
                        if not chunk:
                            return
                        received += chunk
                    head, _, received = received.partition(b"\r\n\r\n")
                    fields = {n.lower(): v for n, v in (line.split(b": ", 1) for line in head.split(b"\r\n")[1:])}
                    if not head.startswith(b"HTTP/1.1 202 ") or fields.get(b"content-length") != b"0":
                        unexpected.append(head)
                        return
                    acknowledged.append(fields[b"x-amzn-requestid"].decode())
        except OSError:
            return

    threads = [threading.Thread(target=client) for _ in range(16)]
    _kill_host_once(host, threads, stop, lambda: len(acknowledged) >= 3000 or unexpected, "3000 events acknowledged")

    database = sqlite3.connect(tmp_path / "host" / "state" / "fnhost.sqlite")
    stored = {row[0] for row in database.execute("SELECT requestID FROM asyncInvocation")}
    assert not unexpected, unexpected[:3]
    assert len(acknowledged) >= 3000
    assert set(acknowledged) - stored == set()


def _kill_host_once(host, threads, stop, acknowledged_enough, what):
    """Starts the client `threads`, SIGKILLs the host once `acknowledged_enough()`, then stops the clients."""
    try:
        for thread in threads:
            thread.start()
        wait_for(acknowledged_enough, 60, what=what)
        host.process.send_signal(signal.SIGKILL)
        host.process.wait(timeout=5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        stop.set()
        host.kill_hard()
