"""Invoke API through boto3: names, qualifiers, API errors, invocation types, logs, function errors, workers."""

import base64
import json
import re
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import ACCOUNT, ARN_PREFIX, REGION, decode_log_result, invoke_json, wait_for

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def assert_success(response):
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"


def client_error(call) -> ClientError:
    with pytest.raises(ClientError) as info:
        call()
    return info.value


# --------------------------------------------------------------------------------------------
# The example functions


@pytest.mark.parametrize(
    "name, check",
    [
        ("PythonHello", lambda body, rid: body["message"] == "Hello, Ada!" and body["requestId"] == rid
            and body["function"] == "PythonHello" and 0 < body["remainingMs"] <= 10000),
        ("NodeHello", lambda body, rid: body["message"] == "Hello, Ada!" and body["requestId"] == rid
            and 0 < body["remainingMs"] <= 10000),
        ("ShellCurl", lambda body, rid: body == {"echo": {"name": "Ada"}, "shell": True}),
        ("CNoop", lambda body, rid: body == {}),
        ("SwiftHello", lambda body, rid: body == {"message": "Hello, Ada!", "requestId": rid}),
        ("PythonRic", lambda body, rid: body == {"ric": True, "echo": {"name": "Ada"}, "requestId": rid}),
    ],
)
def test_example_function_success(example_lambda, name, check):
    response, body = invoke_json(example_lambda, name, {"name": "Ada"})
    assert_success(response)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert UUID_RE.match(request_id), request_id
    assert check(body, request_id), body


def test_example_always_fails(example_lambda):
    response, body = invoke_json(example_lambda, "AlwaysFails", {"name": "Ada"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["ExecutedVersion"] == "$LATEST"
    assert body["errorType"] == "TypeError"
    assert body["errorMessage"] == "this function always fails"
    # Node's runtime names the stack "trace" (as real Lambda's Node runtime does).
    assert isinstance(body.get("trace", body.get("stackTrace")), list)


def test_example_slow_times_out(example_lambda):
    started = time.monotonic()
    response, body = invoke_json(example_lambda, "Slow", {}, LogType="Tail")
    elapsed = time.monotonic() - started
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }
    assert 0.9 <= elapsed < 4.5, elapsed  # the function sleeps 5 s: it must have been cut off
    log = decode_log_result(response)
    assert re.search(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z " + request_id
                     + r" Task timed out after 1\.00 seconds$", log, re.M), log
    report = [line for line in log.splitlines() if line.startswith(f"REPORT RequestId: {request_id}\t")]
    assert report and report[0].endswith("\tStatus: timeout"), report


def test_example_swift_function_error(example_lambda):
    response, body = invoke_json(example_lambda, "SwiftHello", {"name": "error"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert "refusing to greet 'error'" in body["errorMessage"]
    assert body["errorType"]


# --------------------------------------------------------------------------------------------
# Request ids, names and qualifiers


def test_request_id_is_the_functions_aws_request_id(fixture_lambda):
    response, body = invoke_json(fixture_lambda, "Instructed", {"context": True})
    assert_success(response)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert body["aws_request_id"] == request_id
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == request_id
    assert body["function_name"] == "Instructed"
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == ARN_PREFIX + "Instructed"
    assert body["memory_limit_in_mb"] == 192
    assert body["log_group_name"] == "/aws/lambda/Instructed"
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$", body["log_stream_name"])
    assert 0 < body["remaining_ms"] <= 2000
    assert body["client_context"] is None


def test_request_ids_are_unique(fixture_lambda):
    ids = {invoke_json(fixture_lambda, "Instructed", {})[0]["ResponseMetadata"]["RequestId"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("Instructed", {}),
        ("Instructed:$LATEST", {}),
        ("Instructed", {"Qualifier": "$LATEST"}),
        ("Instructed:$LATEST", {"Qualifier": "$LATEST"}),
        (f"{ACCOUNT}:function:Instructed", {}),
        (f"{ACCOUNT}:function:Instructed:$LATEST", {}),
        (f"{ARN_PREFIX}Instructed", {}),
        (f"{ARN_PREFIX}Instructed:$LATEST", {}),
        (f"{ARN_PREFIX}Instructed", {"Qualifier": "$LATEST"}),
    ],
)
def test_function_name_forms(fixture_lambda, name, kwargs):
    response, body = invoke_json(fixture_lambda, name, {"name-form": name}, **kwargs)
    assert_success(response)
    assert body == {"echo": {"name-form": name}}


def test_invoked_function_arn_carries_the_qualifier(fixture_lambda):
    # The ARN the caller used, with the qualifier when one was given.
    _, body = invoke_json(fixture_lambda, "Instructed:$LATEST", {"context": True})
    assert body["invoked_function_arn"] == ARN_PREFIX + "Instructed:$LATEST"
    _, body = invoke_json(fixture_lambda, "Instructed", {"context": True}, Qualifier="$LATEST")
    assert body["invoked_function_arn"] == ARN_PREFIX + "Instructed:$LATEST"
    _, body = invoke_json(fixture_lambda, ARN_PREFIX + "Instructed", {"context": True})
    assert body["invoked_function_arn"] == ARN_PREFIX + "Instructed"


def test_qualifier_mismatch(fixture_lambda):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="Instructed:$LATEST", Qualifier="7"))
    assert error.response["Error"]["Code"] == "InvalidParameterValueException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Message"] == (
        "The derived qualifier from the function name does not match the specified qualifier.")


def test_unknown_function(fixture_lambda):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="Nope", Payload=b"{}"))
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error.response["Error"]["Message"] == f"Function not found: {ARN_PREFIX}Nope"
    # boto3 maps the modeled error to its exception class.
    assert isinstance(error, fixture_lambda.exceptions.ResourceNotFoundException)


def test_unknown_function_by_arn(fixture_lambda):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName=f"{ARN_PREFIX}Nope"))
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["Error"]["Message"] == f"Function not found: {ARN_PREFIX}Nope"


def test_function_arn_from_another_region(fixture_lambda):
    # Real Lambda: 404 ResourceNotFoundException "Functions from 'eu-west-1' are not reachable in this region
    # ('us-east-1')" (seen in real SDK transcripts; LocalStack reproduces the same text).
    error = client_error(lambda: fixture_lambda.invoke(
        FunctionName=f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:Instructed", Payload=b"{}"))
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error.response["Error"]["Message"] == "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"


def test_invalid_invocation_and_log_types(fixture_lambda):
    for kwargs in ({"InvocationType": "Bogus"}, {"LogType": "Bogus"}):
        error = client_error(lambda: fixture_lambda.invoke(FunctionName="Instructed", Payload=b"{}", **kwargs))
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error.response["Error"]["Code"] == "ValidationException"


def test_function_name_too_long(fixture_lambda):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="a" * 65, Payload=b"{}"))
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Code"] == "ValidationException"


def test_function_names_are_case_sensitive(fixture_lambda):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="instructed", Payload=b"{}"))
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize("name, kwargs", [("Instructed:7", {}), ("Instructed", {"Qualifier": "7"}),
                                          ("Instructed:prod", {})])
def test_other_qualifier_is_not_found(fixture_lambda, name, kwargs):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName=name, **kwargs))
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    qualifier = kwargs.get("Qualifier") or name.split(":")[1]
    assert error.response["Error"]["Message"] == f"Function not found: {ARN_PREFIX}Instructed:{qualifier}"


# --------------------------------------------------------------------------------------------
# Payloads


@pytest.mark.parametrize("payload", [b"not json", b"{\"a\": ", b"{'single': 'quotes'}"])
def test_non_json_payload(fixture_lambda, payload):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="Instructed", Payload=payload))
    assert error.response["Error"]["Code"] == "InvalidRequestContentException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json")


@pytest.mark.parametrize("payload, expected", [
    (b"[1, 2, 3]", [1, 2, 3]), (b"\"text\"", "text"), (b"42", 42), (b"null", None), (b"  {\"a\": 1}  ", {"a": 1}),
])
def test_any_json_value_is_a_payload(fixture_lambda, payload, expected):
    response, body = invoke_json(fixture_lambda, "Instructed", Payload=payload)
    assert_success(response)
    assert body == {"echo": expected}


def test_unicode_payload_roundtrip(fixture_lambda):
    event = {"text": "grüße – 日本語 – 🚀", "quote": "\"'\\"}
    response, body = invoke_json(fixture_lambda, "Instructed", event)
    assert_success(response)
    assert body == {"echo": event}


def test_payload_too_large(fixture_lambda):
    payload = b"\"" + b"x" * 6291455 + b"\""  # 6291457 bytes of valid JSON
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="Instructed", Payload=payload))
    assert error.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert "6291456" in error.response["Error"]["Message"]


def test_large_payload_below_the_limit(fixture_lambda):
    text = "y" * 6_000_000
    response, body = invoke_json(fixture_lambda, "Instructed", text)
    assert_success(response)
    assert body == {"echo": text}


def test_empty_payload_reaches_the_function_as_empty_object(fixture_lambda):
    response = fixture_lambda.invoke(FunctionName="Instructed")
    assert_success(response)
    assert json.loads(response["Payload"].read()) == {"echo": {}}
    response = fixture_lambda.invoke(FunctionName="Instructed", Payload=b"")
    assert json.loads(response["Payload"].read()) == {"echo": {}}


def test_empty_payload_node(fixture_lambda):
    response, body = invoke_json(fixture_lambda, "NodeCommonJS")
    assert_success(response)
    assert body["echo"] == {}


# --------------------------------------------------------------------------------------------
# Invocation types


def test_event_invocation_runs_the_function(fixture_host, fixture_lambda):
    marker = f"event-marker-{time.time_ns()}"
    response = fixture_lambda.invoke(
        FunctionName="Instructed", InvocationType="Event", Payload=json.dumps({"print": [marker]}).encode())
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    assert "FunctionError" not in response
    request_id = response["ResponseMetadata"]["RequestId"]
    assert UUID_RE.match(request_id)

    def ran():
        log = fixture_host.log_text("Instructed")
        return marker in log and f"REPORT RequestId: {request_id}\t" in log

    wait_for(ran, 10, what="the Event invocation to run")
    log = fixture_host.log_text("Instructed")
    start = log.index(f"START RequestId: {request_id} Version: $LATEST")
    assert start < log.index(marker) < log.index(f"END RequestId: {request_id}")


def test_event_payload_over_the_async_limit(fixture_lambda):
    # Async requests are limited to 1 MB.  Real Lambda answers 413 RequestEntityTooLargeException
    # "<N> byte payload is too large for the Event invocation type (limit 1048576 bytes)" (seen in real
    # boto3 / JS SDK transcripts, with the older 262144-byte limit as well).
    payload = json.dumps("e" * 1_500_000).encode()
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="Instructed", InvocationType="Event",
                                                       Payload=payload))
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error.response["Error"]["Message"] == (
        f"{len(payload)} byte payload is too large for the Event invocation type (limit 1048576 bytes)")


def test_event_payload_under_the_async_limit(fixture_host, fixture_lambda):
    marker = f"big-event-{time.time_ns()}"
    payload = json.dumps({"print": [marker], "pad": "p" * 1_000_000}).encode()
    assert len(payload) < 1048576
    response = fixture_lambda.invoke(FunctionName="Instructed", InvocationType="Event", Payload=payload)
    assert response["StatusCode"] == 202
    wait_for(lambda: marker in fixture_host.log_text("Instructed"), 10, what="the large Event invocation to run")


def test_event_invocation_with_bad_json(fixture_lambda):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="Instructed", InvocationType="Event",
                                                       Payload=b"nope"))
    assert error.response["Error"]["Code"] == "InvalidRequestContentException"


def test_client_context_that_is_not_base64_json(fixture_lambda):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="Instructed", Payload=b"{}",
                                                       ClientContext="!!!not-base64"))
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Code"] == "InvalidRequestContentException"


def test_event_invocation_of_unknown_function(fixture_lambda):
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="Nope", InvocationType="Event"))
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"


def test_dry_run(fixture_lambda):
    response = fixture_lambda.invoke(FunctionName="Instructed", InvocationType="DryRun", Payload=b"{}")
    assert response["StatusCode"] == 204
    assert response["Payload"].read() == b""
    error = client_error(lambda: fixture_lambda.invoke(FunctionName="Nope", InvocationType="DryRun"))
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"


# --------------------------------------------------------------------------------------------
# Log tail


REPORT_RE = (r"REPORT RequestId: {id}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
             r"Memory Size: 192 MB\tMax Memory Used: \d+ MB")


def test_log_tail(fixture_lambda):
    response, body = invoke_json(fixture_lambda, "Instructed", {"print": ["tail-line-1", "tail-line-2"]},
                                 LogType="Tail")
    assert_success(response)
    request_id = response["ResponseMetadata"]["RequestId"]
    log = decode_log_result(response)
    lines = log.splitlines()
    assert f"START RequestId: {request_id} Version: $LATEST" in lines
    assert lines.index("tail-line-1") < lines.index("tail-line-2")
    assert f"END RequestId: {request_id}" in lines
    report = [line for line in lines if line.startswith("REPORT ")]
    assert len(report) == 1
    assert re.match(REPORT_RE.format(id=request_id), report[0]), report[0]
    assert lines.index(f"START RequestId: {request_id} Version: $LATEST") < lines.index("tail-line-1") \
        < lines.index(f"END RequestId: {request_id}") < lines.index(report[0])
    assert len(base64.b64decode(response["LogResult"])) <= 4096


def test_log_tail_is_the_last_4_kb(fixture_lambda):
    big = "z" * 10240
    response, _ = invoke_json(fixture_lambda, "Instructed", {"print": ["first-line", big, "after-big"]},
                              LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    raw = base64.b64decode(response["LogResult"])
    assert len(raw) <= 4096
    log = raw.decode("utf-8", errors="replace")
    assert "first-line" not in log  # cut off: only the tail is kept
    assert "after-big" in log
    assert f"END RequestId: {request_id}" in log
    assert re.search(REPORT_RE.format(id=request_id), log)
    assert log.rstrip("\n").splitlines()[-1].startswith(f"REPORT RequestId: {request_id}\t")


def test_no_log_result_without_tail(fixture_lambda):
    response, _ = invoke_json(fixture_lambda, "Instructed", {"print": ["x"]})
    assert "LogResult" not in response
    response, _ = invoke_json(fixture_lambda, "Instructed", {"print": ["x"]}, LogType="None")
    assert "LogResult" not in response


def test_log_tail_of_a_function_error(fixture_lambda):
    response, body = invoke_json(fixture_lambda, "Instructed", {"error": "tail-boom"}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    log = decode_log_result(response)
    assert "tail-boom" in log
    assert f"END RequestId: {response['ResponseMetadata']['RequestId']}" in log


# --------------------------------------------------------------------------------------------
# Client context


def test_client_context_reaches_the_function(fixture_lambda):
    context = {"custom": {"tenant": "acme", "n": 3}, "env": {"locale": "de"},
               "client": {"installation_id": "inst-1", "app_title": "App"}}
    encoded = base64.b64encode(json.dumps(context).encode()).decode()
    response, body = invoke_json(fixture_lambda, "Instructed", {"context": True}, ClientContext=encoded)
    assert_success(response)
    cc = body["client_context"]
    assert cc is not None, body
    assert cc["custom"] == {"tenant": "acme", "n": 3}
    assert cc["env"] == {"locale": "de"}
    assert cc["client"]["installation_id"] == "inst-1"
    assert cc["client"]["app_title"] == "App"


# --------------------------------------------------------------------------------------------
# Function errors


def test_python_function_error(fixture_lambda):
    response, body = invoke_json(fixture_lambda, "Instructed", {"error": "boom"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert response["ExecutedVersion"] == "$LATEST"
    assert body["errorMessage"] == "boom"
    assert body["errorType"] == "ValueError"
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]
    assert any("app.py" in frame for frame in body["stackTrace"])


@pytest.mark.parametrize("name, error_type, message", [
    ("NodeCommonJS", "TypeError", "node-boom"),
    ("NodeEsm", "RangeError", "node-boom"),
    ("NodeCallback", "Error", "node-boom"),
    ("NodeCustomError", "MyError", "custom failure"),
])
def test_node_function_errors(fixture_lambda, name, error_type, message):
    response, body = invoke_json(fixture_lambda, name, {"error": "node-boom"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == error_type
    assert body["errorMessage"] == message


@pytest.mark.parametrize("name, check", [
    ("NodeCommonJS", lambda b, rid: b == {"echo": {"k": [1]}, "remaining": True, "name": "NodeCommonJS"}),
    ("NodeEsm", lambda b, rid: b == {"esm": True, "echo": {"k": [1]}, "name": "NodeEsm"}),
    ("NodeCallback", lambda b, rid: b == {"callback": True, "echo": {"k": [1]}, "requestId": rid}),
])
def test_node_fixture_success(fixture_lambda, name, check):
    response, body = invoke_json(fixture_lambda, name, {"k": [1]})
    assert_success(response)
    assert check(body, response["ResponseMetadata"]["RequestId"]), body


def test_timeout_then_next_invoke_works(fixture_lambda):
    response, body = invoke_json(fixture_lambda, "InstructedCrash", {"sleep": 5})
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {request_id} Error: Task timed out after 2.00 seconds"}
    response, body = invoke_json(fixture_lambda, "InstructedCrash", {"after": "timeout"})
    assert_success(response)
    assert body == {"echo": {"after": "timeout"}}


@pytest.mark.parametrize("instruction, reason", [
    ({"exit": 3}, "exit status 3"),
    ({"kill": "SIGKILL"}, "signal: killed"),
])
def test_runtime_exit_mid_invoke(fixture_host, fixture_lambda, instruction, reason):
    _, before = invoke_json(fixture_lambda, "InstructedCrash", {"pid": True})
    response, body = invoke_json(fixture_lambda, "InstructedCrash", instruction)
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}"}
    # The next invoke gets a fresh worker.
    response, after = invoke_json(fixture_lambda, "InstructedCrash", {"pid": True})
    assert_success(response)
    assert after["pid"] != before["pid"]
    log = fixture_host.log_text("InstructedCrash")
    assert f"RequestId: {request_id} Error: Runtime exited with error: {reason}" in log
    report = [line for line in log.splitlines() if line.startswith(f"REPORT RequestId: {request_id}\t")]
    assert report and report[0].endswith("\tStatus: error\tError Type: Runtime.ExitError"), report


def test_response_too_large_keeps_the_worker(fixture_lambda):
    _, first = invoke_json(fixture_lambda, "InstructedPids", {"pid": True})
    response, body = invoke_json(fixture_lambda, "InstructedPids", {"bytes": 6291555})  # 6291557 bytes of JSON
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert "6291556" in body["errorMessage"]
    response, after = invoke_json(fixture_lambda, "InstructedPids", {"pid": True})
    assert_success(response)
    assert after["pid"] == first["pid"]


def test_response_at_the_limit(fixture_lambda):
    response = fixture_lambda.invoke(FunctionName="InstructedPids", Payload=b'{"bytes": 6291554}')
    assert_success(response)
    body = response["Payload"].read()
    assert len(body) == 6291556
    assert body == b"\"" + b"x" * 6291554 + b"\""


def test_warm_reuse(fixture_lambda):
    _, first = invoke_json(fixture_lambda, "InstructedPids", {"pid": True})
    _, second = invoke_json(fixture_lambda, "InstructedPids", {"pid": True})
    _, third = invoke_json(fixture_lambda, "InstructedPids", {"pid": True})
    assert first["pid"] == second["pid"] == third["pid"]


def test_concurrent_invokes_use_separate_workers(fixture_lambda):
    results, errors = [None] * 4, []

    def run(index):
        try:
            response, body = invoke_json(fixture_lambda, "InstructedConcurrent", {"sleep": 1, "pid": True})
            results[index] = (response, body)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    elapsed = time.monotonic() - started
    assert not errors, errors
    assert all(result is not None for result in results)
    for response, _ in results:
        assert_success(response)
    pids = {body["pid"] for _, body in results}
    assert len(pids) == 4, pids
    assert elapsed < 3.5, f"4 concurrent 1-second invokes took {elapsed:.2f} s"


# --------------------------------------------------------------------------------------------
# Init failures


def test_import_error(fixture_host, fixture_lambda):
    for _ in range(2):
        response, body = invoke_json(fixture_lambda, "BrokenImport", {})
        assert response["StatusCode"] == 200
        assert response["FunctionError"] == "Unhandled"
        assert body["errorType"] == "Runtime.ImportModuleError"
        assert body["errorMessage"] == (
            "Unable to import module 'broken_import': No module named 'does_not_exist_module_xyz'")
    # The host stays up and other functions still work.
    response, body = invoke_json(fixture_lambda, "Instructed", {"still": "up"})
    assert_success(response)
    assert body == {"echo": {"still": "up"}}
    assert "Status: error\tError Type: Runtime.ImportModuleError" in fixture_host.log_text("BrokenImport")


def test_bootstrap_exits_at_init(fixture_host, fixture_lambda):
    for _ in range(2):
        response, body = invoke_json(fixture_lambda, "ExitsAtInit", {})
        assert response["StatusCode"] == 200
        assert response["FunctionError"] == "Unhandled"
        assert body["errorType"] == "Runtime.ExitError"
        assert "Runtime exited with error: exit status 3" in body["errorMessage"]
    assert "INIT_REPORT Init Duration: " in fixture_host.log_text("ExitsAtInit")
    assert "\tPhase: init\tStatus: error\tError Type: Runtime.ExitError" in fixture_host.log_text("ExitsAtInit")
    # The host stays up.
    assert invoke_json(fixture_lambda, "Instructed", {})[1] == {"echo": {}}


def test_bootstrap_exits_at_init_message_names_the_request(fixture_lambda):
    # Real Lambda reports a runtime that dies before /next like one that dies mid-invoke:
    # "RequestId: <id> Error: Runtime exited with error: exit status N" (seen in real console/CLI
    # transcripts of custom runtimes failing at start-up).
    response, body = invoke_json(fixture_lambda, "ExitsAtInit", {})
    request_id = response["ResponseMetadata"]["RequestId"]
    assert body == {"errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 3"}


# --------------------------------------------------------------------------------------------
# Environment


LOG_STREAM_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def test_environment(fixture_host, fixture_lambda):
    response, env = invoke_json(fixture_lambda, "Instructed", {"env": True})
    assert_success(response)
    # Template variables: Globals merged with the function's own, function wins; !Ref of a parameter.
    assert env["GLOBAL_ONLY"] == "from-globals"
    assert env["FUNCTION_ONLY"] == "from-function"
    assert env["OVERRIDDEN"] == "function-value"
    assert env["STAGE"] == "compat-stage"
    # Platform variables.
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "Instructed"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert re.match(r"^127\.0\.0\.1:\d+$", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_REGION"] == REGION
    assert env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/Instructed"
    assert LOG_STREAM_RE.match(env["AWS_LAMBDA_LOG_STREAM_NAME"]), env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["TZ"] == ":UTC"
    assert env["LANG"] == "en_US.UTF-8"
    path = env["PATH"].split(":")
    assert path[0] == "/var/lang/bin"
    assert path[-1] == "/opt/bin"
    for entry in ("/usr/local/bin", "/bin"):
        assert entry in path, env["PATH"]
    assert env["LD_LIBRARY_PATH"] == (
        "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib")
    assert env["cwd"] == "/var/task"
    # The host's own environment does not leak in.
    assert "FNHOST_TEST_LEAK" not in env


def test_environment_per_function(fixture_lambda):
    _, env = invoke_json(fixture_lambda, "InstructedPids", {"env": True})
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "InstructedPids"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/InstructedPids"
    assert env["OVERRIDDEN"] == "global-value"  # no function-level override here
    assert "FUNCTION_ONLY" not in env


def test_log_stream_name_matches_context(fixture_lambda):
    _, env = invoke_json(fixture_lambda, "InstructedPids", {"env": True})
    _, ctx = invoke_json(fixture_lambda, "InstructedPids", {"context": True})
    assert ctx["log_stream_name"] == env["AWS_LAMBDA_LOG_STREAM_NAME"]  # same warm environment


def test_example_environment_globals_and_parameter(example_lambda):
    configuration = example_lambda.get_function_configuration(FunctionName="PythonHello")
    assert configuration["Environment"]["Variables"]["GREETING"] == "hello from fnhost"
    assert configuration["Description"] == f"Python greeter in {REGION}"
