"""Third-party runtime clients on the host: AWS's awslambdaric and the bash + curl custom runtime."""

import json

from conftest import invoke_json, wait_for


def test_awslambdaric_success(example_lambda):
    event = {"nested": {"list": [1, 2, {"x": None}]}, "flag": True}
    response, body = invoke_json(example_lambda, "PythonRic", event)
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert body == {"ric": True, "echo": event, "requestId": response["ResponseMetadata"]["RequestId"]}


def test_awslambdaric_warm_requests(example_lambda):
    ids = set()
    for index in range(3):
        response, body = invoke_json(example_lambda, "PythonRic", {"i": index})
        assert body["echo"] == {"i": index}
        ids.add(body["requestId"])
    assert len(ids) == 3


def test_awslambdaric_exception(example_host, example_lambda):
    marker = "ric-failure-marker-42"
    response, body = invoke_json(example_lambda, "PythonRic", {"fail": marker})
    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "RuntimeError"
    assert body["errorMessage"] == marker
    assert isinstance(body["stackTrace"], list)
    assert body.get("requestId", request_id) == request_id

    def logged():
        log = example_host.log_text("PythonRic")
        return marker in log and f"END RequestId: {request_id}" in log

    wait_for(logged, 5, what="awslambdaric's error output in the host log")
    assert f"[PythonRic] " in example_host.stdout()
    assert any(marker in line for line in example_host.stdout().splitlines() if line.startswith("[PythonRic] "))
    # The runtime survives the exception.
    response, body = invoke_json(example_lambda, "PythonRic", {"after": "failure"})
    assert "FunctionError" not in response
    assert body["echo"] == {"after": "failure"}


def test_shell_curl_roundtrip(example_host, example_lambda):
    event = {"text": "hello world with  spaces", "quotes": "she said \"hi\" and 'bye'",
             "backslash": "a\\b", "list": [1, "two", {"three": 3}], "unicode": "héllo ✓"}
    response, body = invoke_json(example_lambda, "ShellCurl", event)
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert body == {"echo": event, "shell": True}
    # function.sh logs the event on stderr.
    wait_for(lambda: "she said" in example_host.log_text("ShellCurl"), 5, what="ShellCurl's stderr in its log")


def test_shell_curl_sequential(example_lambda):
    for index in range(3):
        response, body = invoke_json(example_lambda, "ShellCurl", {"i": index})
        assert body == {"echo": {"i": index}, "shell": True}


def test_c_noop_many(example_lambda):
    for _ in range(5):
        response = example_lambda.invoke(FunctionName="CNoop", Payload=b"{}")
        assert response["StatusCode"] == 200
        assert json.loads(response["Payload"].read()) == {}
