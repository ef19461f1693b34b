"""A hostile client on the serve port: every bad request gets a complete AWS-shaped 4xx, oversized
bodies are refused without being read, idle and slow connections are cut off, too many
connections get 503, and the host keeps serving throughout."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import boto3
import pytest

from conftest import FIXTURE_TEMPLATE, invoke_json, lambda_client, start_host, wait_for

ONE_FUNCTION = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.handler
      CodeUri: {code}
      AutoPublishAlias: live
"""


@pytest.fixture(scope="module")
def hostile_host(tmp_path_factory):
    host = start_host(FIXTURE_TEMPLATE, tmp_path_factory.mktemp("hostile"), "--client-timeout", "1",
                      "--max-connections", "20")
    try:
        yield host
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Sends ``data`` and reads until the server closes or a whole response (by Content-Length) arrived."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        return read_response(connection)


def read_response(connection: socket.socket) -> bytes:
    received = b""
    while True:
        if b"\r\n\r\n" in received:
            head, _, body = received.partition(b"\r\n\r\n")
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:") and len(body) >= int(line.split(b":")[1]):
                    return received
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def healthy(host) -> None:
    _, result = invoke_json(lambda_client(host.endpoint), "Instructed", {"echo": "still here"})
    assert result == {"echo": {"echo": "still here"}}, result


def sqs_call(port: int, operation: str, body: dict) -> tuple[int, dict]:
    payload = json.dumps(body).encode()
    raw = exchange(port, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS." + operation.encode()
                   + b"\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: "
                   + str(len(payload)).encode() + b"\r\n\r\n" + payload)
    head, _, body_bytes = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body_bytes)


@pytest.mark.parametrize("request_line", [
    b"CONNECT 127.0.0.1:22 HTTP/1.1", b"TRACE / HTTP/1.1", b"GET /nothing/here HTTP/1.1",
    b"DELETE /2015-03-31/functions/Instructed/invocations HTTP/1.1",
])
def test_unserved_methods_and_paths_get_a_complete_answer(hostile_host, request_line):
    answer = exchange(hostile_host.port, request_line + b"\r\nHost: 127.0.0.1\r\n\r\n")
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert answer.startswith(b"HTTP/1.1 4"), answer[:200]
    assert b"content-length:" in head or b"connection: close" in head, answer[:300]
    healthy(hostile_host)


def test_a_header_block_over_the_limit_is_refused_and_closed(hostile_host):
    answer = exchange(hostile_host.port, b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nX-Big: "
                      + b"a" * 200_000 + b"\r\n\r\n")
    assert answer.startswith((b"HTTP/1.1 431", b"HTTP/1.1 400")), answer[:200]
    healthy(hostile_host)


def test_json_that_rfc8259_rejects_is_invalid_request_content(hostile_host):
    client = lambda_client(hostile_host.endpoint)
    for payload in (b"[1,]", b'{"a": 1,}', b"{'a': 1}", b"NaN", b"[01]"):
        with pytest.raises(client.exceptions.InvalidRequestContentException):
            client.invoke(FunctionName="Instructed", Payload=payload)


def test_an_absurd_declared_body_is_refused_without_reading_it(hostile_host):
    started = time.monotonic()
    answer = exchange(hostile_host.port, b"POST /2015-03-31/functions/Instructed/invocations HTTP/1.1\r\n"
                      b"Host: x\r\nContent-Length: 10000000000\r\n\r\n" + b"x" * 65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"RequestEntityTooLargeException" in answer
    assert b"connection: close" in answer.lower()
    assert time.monotonic() - started < 3
    status, body = sqs_call_raw_oversized(hostile_host.port)
    assert status == 400 and "larger than" in body["message"], body
    healthy(hostile_host)


def sqs_call_raw_oversized(port: int) -> tuple[int, dict]:
    raw = exchange(port, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonSQS.SendMessage\r\n"
                   b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 10000000000\r\n\r\n{")
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


def test_list_queues_refuses_a_token_it_never_handed_out(hostile_host):
    for token in ("-5", "99999999999999999999", "abc", "-9223372036854775808"):
        status, body = sqs_call(hostile_host.port, "ListQueues", {"NextToken": token})
        assert status == 400 and "InvalidParameterValue" in body["__type"], (token, body)
    healthy(hostile_host)


def test_change_message_visibility_batch_on_a_missing_queue(hostile_host):
    sqs = boto3.client("sqs", endpoint_url=hostile_host.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.change_message_visibility_batch(
            QueueUrl=f"{hostile_host.endpoint}/123456789012/never-created",
            Entries=[{"Id": "a", "ReceiptHandle": "x", "VisibilityTimeout": 1}])


def test_idle_and_slow_clients_are_cut_off(hostile_host):
    with socket.create_connection(("127.0.0.1", hostile_host.port), timeout=5) as idle:
        started = time.monotonic()
        assert idle.recv(1) == b""
        assert time.monotonic() - started < 4
    with socket.create_connection(("127.0.0.1", hostile_host.port), timeout=5) as slow:
        slow.sendall(b"GET /2015-03-31/functions HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        while not closed and time.monotonic() - started < 6:
            try:
                slow.sendall(b"X-Slow: a\r\n")  # never a complete head
                time.sleep(0.3)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        assert closed, "a client that never completes its headers must be cut off"
        assert time.monotonic() - started < 4
    healthy(hostile_host)


def invoke_request(name: str, body: bytes, *headers: bytes) -> bytes:
    return (b"POST /2015-03-31/functions/" + name.encode() + b"/invocations HTTP/1.1\r\nHost: x\r\n"
            + b"".join(header + b"\r\n" for header in headers)
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def read_responses(connection: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """Reads ``count`` responses (status, body) from a keep-alive connection, in order."""
    return [(status, body) for status, _, body in read_answers(connection, count)]


def read_answers(connection: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """Reads ``count`` responses (status, headers by lowercased name, body), in order."""
    received, answers = b"", []
    while len(answers) < count:
        if b"\r\n\r\n" in received:
            head, _, rest = received.partition(b"\r\n\r\n")
            fields = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n")[1:])
            fields = {name.lower(): value for name, value in fields.items()}
            length = int(fields["content-length"])
            if len(rest) >= length:
                answers.append((int(head.split(b" ")[1]), fields, rest[:length]))
                received = rest[length:]
                continue
        chunk = connection.recv(65536)
        assert chunk, f"the connection closed after {len(answers)} of {count} answers"
        received += chunk
    return answers


def test_pipelined_requests_are_answered_in_order_by_both_paths(hostile_host):
    healthy(hostile_host)  # a warm worker: plain invokes may take the event-loop fast path
    requests = [
        invoke_request("Instructed", b'{"sleep": 0.3, "echo": 1}'),  # slow: what follows waits behind it
        b"GET /2015-03-31/functions/Instructed HTTP/1.1\r\nHost: x\r\n\r\n",
        invoke_request("Instructed", b'{"echo": 2}'),
        invoke_request("Instructed", b'{"echo": '),  # not JSON: the router's 400
        invoke_request("Instructed", b'{"echo": 3}', b"X-Amz-Log-Type: Tail"),
        invoke_request("Instructed", b'{"echo": 4}'),
    ]
    with socket.create_connection(("127.0.0.1", hostile_host.port), timeout=10) as connection:
        connection.sendall(b"".join(requests))
        answers = read_responses(connection, len(requests))
    statuses = [status for status, _ in answers]
    assert statuses == [200, 200, 200, 400, 200, 200], answers
    assert json.loads(answers[0][1]) == {"echo": {"sleep": 0.3, "echo": 1}}
    assert json.loads(answers[1][1])["Configuration"]["FunctionName"] == "Instructed"
    assert json.loads(answers[2][1]) == {"echo": {"echo": 2}}
    assert json.loads(answers[3][1])["Type"] == "User"
    assert [json.loads(body) for _, body in answers[4:]] == [{"echo": {"echo": 3}}, {"echo": {"echo": 4}}]


def test_event_invokes_get_the_same_answers_from_both_paths_in_order(hostile_host):
    """Plain Event invokes are queued from the event loop; the rest go to the router. Pipelined,
    they are answered in order, and a 202 looks the same whichever path gave it."""
    event = b"X-Amz-Invocation-Type: Event"
    requests = [
        invoke_request("Instructed", b'{"n": 1}', event),  # the event-loop path
        invoke_request("Instructed", b'{"n": 2}', event, b"X-Amz-Client-Context: e30="),  # the router's
        invoke_request("Instructed", b'{"n": ', event),  # not JSON: the router's 400
        invoke_request("Nope", b'{}', event),  # no such function: the router's 404
        invoke_request("Instructed", b"", event),  # empty: queued as {}
        invoke_request("Instructed", b'{"n": 3}', event, b"X-Amz-Log-Type: Tail"),
        invoke_request("Instructed", b'{"n": 4}', event, b"X-Amz-Log-Type: Everything"),  # the router's 400
    ]
    with socket.create_connection(("127.0.0.1", hostile_host.port), timeout=10) as connection:
        connection.sendall(b"".join(requests))
        answers = read_answers(connection, len(requests))
    assert [status for status, _, _ in answers] == [202, 202, 400, 404, 202, 202, 400], answers
    accepted = [answers[i] for i in (0, 1, 4, 5)]
    for _, fields, body in accepted:
        assert body == b"" and fields["content-length"] == "0"
        assert set(fields) == {"x-amzn-requestid", "content-length", "date"}, fields
    request_ids = [fields["x-amzn-requestid"] for _, fields, _ in accepted]
    assert len(set(request_ids)) == 4
    assert answers[2][1]["x-amzn-errortype"] == "InvalidRequestContentException"
    assert answers[3][1]["x-amzn-errortype"] == "ResourceNotFoundException"
    assert answers[6][1]["x-amzn-errortype"] == "ValidationException"
    # Each accepted event runs (with its request id), the empty one with {}.
    for request_id in request_ids:
        wait_for(lambda: f"START RequestId: {request_id} " in hostile_host.log_text("Instructed"), 30,
                 what=f"the event {request_id} to run")


def test_a_connection_invoking_steadily_outlives_the_idle_timeout(hostile_host):
    """The idle timeout (1 s here) counts requests the fast path answers: a busy connection stays open."""
    healthy(hostile_host)
    with socket.create_connection(("127.0.0.1", hostile_host.port), timeout=5) as connection:
        started, answered = time.monotonic(), 0
        while time.monotonic() - started < 2.5:
            connection.sendall(invoke_request("Instructed", b'{"echo": "busy"}'))
            [(status, body)] = read_responses(connection, 1)
            assert (status, json.loads(body)) == (200, {"echo": {"echo": "busy"}})
            answered += 1
        assert answered > 10


def test_connections_past_the_cap_get_503(hostile_host):
    held = [socket.create_connection(("127.0.0.1", hostile_host.port), timeout=5) for _ in range(20)]
    try:
        # Each held connection is counted once it got an answer (connections are accepted on
        # several event loops: a new one may otherwise be counted before an older one).
        for connection in held:
            connection.sendall(b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n\r\n")
        for connection in held:
            assert read_response(connection).startswith(b"HTTP/1.1 200")
        answer = exchange(hostile_host.port, b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
    finally:
        for connection in held:
            connection.close()
    # The held connections are gone (closed here, or cut off as idle): the host serves again.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if exchange(hostile_host.port, b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
                b"HTTP/1.1 200"):
            break
        time.sleep(0.05)
    healthy(hostile_host)


def test_provisioned_concurrency_must_fit_the_account(tmp_path: Path):
    template = tmp_path / "template.yaml"
    template.write_text(ONE_FUNCTION.format(code=FIXTURE_TEMPLATE.parent.parent / "functions" / "instructed"))
    host = start_host(template, tmp_path / "state", "--max-concurrency", "10")
    try:
        client = lambda_client(host.endpoint)
        for requested in (25, 899, 1):
            with pytest.raises(client.exceptions.InvalidParameterValueException) as error:
                client.put_provisioned_concurrency_config(
                    FunctionName="Echo", Qualifier="live", ProvisionedConcurrentExecutions=requested)
            assert "UnreservedConcurrentExecution below its minimum value of [10]" in str(error.value)
        assert client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 10
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]
