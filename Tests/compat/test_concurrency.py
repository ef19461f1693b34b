"""Concurrency ledger through boto3: exact throttle counts, reserved 0, the account limit, the
concurrency API changing behaviour at run time, and events that wait instead of being throttled."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from conftest import REPO, invoke_json, lambda_client, start_host, wait_for

LIMITS_TEMPLATE = REPO / "Tests" / "Fixtures" / "limits" / "template.yaml"
ACCOUNT_TEMPLATE = REPO / "Tests" / "Fixtures" / "limits" / "account.yaml"


@pytest.fixture(scope="module")
def limits_host(tmp_path_factory):
    host = start_host(LIMITS_TEMPLATE, tmp_path_factory.mktemp("limits-host"))
    try:
        yield host
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


@pytest.fixture(scope="module")
def limits_lambda(limits_host):
    return lambda_client(limits_host.endpoint)


def simultaneous(client, calls):
    """Runs ``calls`` (a list of (function name, event)) at the same moment; returns, in order,
    ("ok", body) or ("throttled", Reason) or ("error", exception)."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, name, event):
        barrier.wait(timeout=10)
        try:
            response, body = invoke_json(client, name, event)
            outcomes[index] = ("ok", body) if "FunctionError" not in response else ("error", body)
        except client.exceptions.TooManyRequestsException as error:
            outcomes[index] = ("throttled", error.response.get("Reason"))
        except Exception as error:  # noqa: BLE001 - reported by the caller
            outcomes[index] = ("error", error)

    threads = [threading.Thread(target=run, args=(i, name, event)) for i, (name, event) in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def kinds(outcomes):
    return sorted(kind for kind, _ in outcomes)


def test_reserved_two_runs_exactly_two_of_six(limits_lambda):
    outcomes = simultaneous(limits_lambda, [("ReservedTwo", {"sleep": 2})] * 6)
    assert kinds(outcomes) == ["ok"] * 2 + ["throttled"] * 4, outcomes
    assert {detail for kind, detail in outcomes if kind == "throttled"} == {
        "ReservedFunctionConcurrentInvocationLimitExceeded"}


def test_reserved_zero_throttles_with_the_aws_wire_shape(limits_host, limits_lambda):
    with pytest.raises(limits_lambda.exceptions.TooManyRequestsException) as raised:
        limits_lambda.invoke(FunctionName="ReservedZero", Payload=b"{}")
    assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert raised.value.response["Error"]["Message"] == "Rate Exceeded."

    request = urllib.request.Request(
        f"{limits_host.endpoint}/2015-03-31/functions/ReservedZero/invocations", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(request, timeout=10)
    assert http.value.code == 429
    assert http.value.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert http.value.headers["Retry-After"] == "1"
    assert http.value.read() == (
        b'{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}')
    assert limits_host.log_text("ReservedZero").count("START RequestId") == 0


def test_concurrency_api_changes_behaviour_at_run_time(limits_lambda):
    client = limits_lambda
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName="Adjustable")
    assert client.put_function_concurrency(
        FunctionName="Adjustable", ReservedConcurrentExecutions=1)["ReservedConcurrentExecutions"] == 1
    assert client.get_function_concurrency(FunctionName="Adjustable")["ReservedConcurrentExecutions"] == 1
    assert client.get_function(FunctionName="Adjustable")["Concurrency"] == {"ReservedConcurrentExecutions": 1}
    settings = client.get_account_settings()["AccountLimit"]
    assert settings["ConcurrentExecutions"] == 1000
    assert settings["UnreservedConcurrentExecutions"] == 1000 - 2 - 0 - 1 - 1

    outcomes = simultaneous(client, [("Adjustable", {"sleep": 1.5})] * 3)
    assert kinds(outcomes) == ["ok", "throttled", "throttled"], outcomes

    client.put_function_concurrency(FunctionName="Adjustable", ReservedConcurrentExecutions=0)
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.invoke(FunctionName="Adjustable", Payload=b"{}")

    client.delete_function_concurrency(FunctionName="Adjustable")
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName="Adjustable")
    outcomes = simultaneous(client, [("Adjustable", {"sleep": 1.5})] * 3)
    assert kinds(outcomes) == ["ok"] * 3, outcomes

    # 100 must stay unreserved: 1000 - 3 reserved elsewhere - 898 would leave 99.
    with pytest.raises(client.exceptions.InvalidParameterValueException) as raised:
        client.put_function_concurrency(FunctionName="Adjustable", ReservedConcurrentExecutions=898)
    assert "below its minimum value of [100]" in raised.value.response["Error"]["Message"]
    client.put_function_concurrency(FunctionName="Adjustable", ReservedConcurrentExecutions=897)
    client.delete_function_concurrency(FunctionName="Adjustable")


def test_events_over_the_limit_wait_and_all_run(limits_host, limits_lambda):
    client = limits_lambda
    for index in range(4):
        response = client.invoke(
            FunctionName="AsyncOne", InvocationType="Event",
            Payload=json.dumps({"sleep": 0.3, "print": [f"event-{index}"]}).encode())
        assert response["StatusCode"] == 202
    wait_for(lambda: limits_host.log_text("AsyncOne").count("END RequestId") == 4, 20,
             what="all four events of AsyncOne to run")
    log = limits_host.log_text("AsyncOne")
    assert all(f"event-{index}" in log for index in range(4))
    # Never two at once: reservation 1 means one worker, reused.
    assert log.count("Init Duration") == 1, log


def test_events_of_a_function_reserved_at_zero_fail_at_once(limits_host, limits_lambda):
    # As on Lambda: not parked until the reservation is lifted, but failed with ZeroReservedConcurrency.
    client = limits_lambda
    client.put_function_concurrency(FunctionName="Adjustable", ReservedConcurrentExecutions=0)
    try:
        before = limits_host.log_text("Adjustable").count("END RequestId")
        refused_before = limits_host.log_text("Adjustable").count("refused")
        for _ in range(2):
            client.invoke(FunctionName="Adjustable", InvocationType="Event", Payload=b'{"print": ["refused"]}')
        wait_for(lambda: limits_host.stderr().count("ZeroReservedConcurrency") >= 2, 20,
                 what="both events failed with ZeroReservedConcurrency")
    finally:
        client.delete_function_concurrency(FunctionName="Adjustable")
    # A later event runs; the two failed ones never do (one lane: they would have run before it).
    client.invoke(FunctionName="Adjustable", InvocationType="Event", Payload=b'{"print": ["after"]}')
    wait_for(lambda: limits_host.log_text("Adjustable").count("END RequestId") == before + 1, 20,
             what="the event sent after the reservation was lifted")
    assert limits_host.log_text("Adjustable").count("refused") == refused_before


def test_the_account_limit(tmp_path):
    host = start_host(ACCOUNT_TEMPLATE, tmp_path, "--max-concurrency", "3")
    try:
        client = lambda_client(host.endpoint)
        assert client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 3
        calls = [("Shared", {"sleep": 2})] * 3 + [("SharedToo", {"sleep": 2})] * 2
        outcomes = simultaneous(client, calls)
        assert kinds(outcomes) == ["ok"] * 3 + ["throttled"] * 2, outcomes
        assert {d for k, d in outcomes if k == "throttled"} == {"ConcurrentInvocationLimitExceeded"}
        # A limit of 3 leaves nothing to reserve (Lambda keeps min(100, limit) unreserved).
        with pytest.raises(client.exceptions.InvalidParameterValueException):
            client.put_function_concurrency(FunctionName="Shared", ReservedConcurrentExecutions=1)
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_a_template_that_reserves_too_much_stops_start_up(tmp_path):
    import subprocess

    from conftest import FNHOST_BIN
    result = subprocess.run(
        [str(FNHOST_BIN), "serve", "--template", str(LIMITS_TEMPLATE), "--port", "0", "--max-concurrency", "50",
         "--state-dir", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "unreserved" in result.stderr and "--max-concurrency" in result.stderr, result.stderr
