"""The aws CLI v1 against the example host."""

import base64
import json

from conftest import ARN_PREFIX, EXAMPLE_FUNCTIONS


def test_invoke_success(example_host, aws_cli, tmp_path):
    out = tmp_path / "out.json"
    result = aws_cli(example_host.endpoint, "invoke", "--function-name", "PythonHello",
                     "--payload", '{"name": "Cli"}', str(out))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["StatusCode"] == 200
    assert printed["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in printed
    assert '"StatusCode": 200' in result.stdout
    body = json.loads(out.read_text())
    assert body["message"] == "Hello, Cli!"
    assert body["function"] == "PythonHello"


def test_invoke_function_error(example_host, aws_cli, tmp_path):
    out = tmp_path / "out.json"
    result = aws_cli(example_host.endpoint, "invoke", "--function-name", "AlwaysFails", str(out))
    assert result.returncode == 0, result.stderr
    assert '"FunctionError": "Unhandled"' in result.stdout
    assert json.loads(result.stdout)["StatusCode"] == 200
    body = json.loads(out.read_text())
    assert body["errorType"] == "TypeError"
    assert body["errorMessage"] == "this function always fails"


def test_invoke_unknown_function(example_host, aws_cli, tmp_path):
    result = aws_cli(example_host.endpoint, "invoke", "--function-name", "Nope", str(tmp_path / "out.json"))
    assert result.returncode == 255
    assert ("An error occurred (ResourceNotFoundException) when calling the Invoke operation: "
            f"Function not found: {ARN_PREFIX}Nope") in result.stderr
    assert not (tmp_path / "out.json").exists() or (tmp_path / "out.json").read_text() == ""


def test_invoke_log_tail(example_host, aws_cli, tmp_path):
    result = aws_cli(example_host.endpoint, "invoke", "--function-name", "PythonHello", "--log-type", "Tail",
                     "--payload", '{"name": "Tail"}', str(tmp_path / "out.json"))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    log = base64.b64decode(printed["LogResult"]).decode()
    request_id = json.loads((tmp_path / "out.json").read_text())["requestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert "greeting Tail" in log
    assert f"END RequestId: {request_id}" in log
    assert f"REPORT RequestId: {request_id}\tDuration: " in log


def test_invoke_event(example_host, aws_cli, tmp_path):
    result = aws_cli(example_host.endpoint, "invoke", "--function-name", "PythonHello",
                     "--invocation-type", "Event", "--payload", '{"name": "Async"}', str(tmp_path / "out.json"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["StatusCode"] == 202
    assert (tmp_path / "out.json").read_text() == ""


def test_invoke_bad_payload(example_host, aws_cli, tmp_path):
    result = aws_cli(example_host.endpoint, "invoke", "--function-name", "PythonHello",
                     "--payload", "not json", str(tmp_path / "out.json"))
    assert result.returncode == 255
    assert "An error occurred (InvalidRequestContentException) when calling the Invoke operation" in result.stderr


def test_list_functions(example_host, aws_cli):
    result = aws_cli(example_host.endpoint, "list-functions")
    assert result.returncode == 0, result.stderr
    functions = json.loads(result.stdout)["Functions"]
    assert sorted(f["FunctionName"] for f in functions) == sorted(EXAMPLE_FUNCTIONS)


def test_list_functions_paged_by_the_cli(example_host, aws_cli):
    result = aws_cli(example_host.endpoint, "list-functions", "--page-size", "3")
    assert result.returncode == 0, result.stderr
    names = [f["FunctionName"] for f in json.loads(result.stdout)["Functions"]]
    assert sorted(names) == sorted(EXAMPLE_FUNCTIONS)


def test_get_function_configuration(example_host, aws_cli):
    result = aws_cli(example_host.endpoint, "get-function-configuration", "--function-name", "Slow")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["FunctionName"] == "Slow"
    assert config["FunctionArn"] == ARN_PREFIX + "Slow"
    assert config["Runtime"] == "python3.11"
    assert config["Timeout"] == 1
    assert config["MemorySize"] == 256
    assert config["State"] == "Active"


def test_get_function_configuration_unknown(example_host, aws_cli):
    result = aws_cli(example_host.endpoint, "get-function-configuration", "--function-name", "Nope")
    assert result.returncode == 255
    assert ("An error occurred (ResourceNotFoundException) when calling the GetFunctionConfiguration "
            f"operation: Function not found: {ARN_PREFIX}Nope") in result.stderr
