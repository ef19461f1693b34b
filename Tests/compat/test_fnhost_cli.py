"""`fnhost invoke`, locally and through a running host, and its template errors."""

import json
import os
import socket
import subprocess
import urllib.request

import pytest

from conftest import EXAMPLE_TEMPLATE, FNHOST_BIN, REPO, start_host

INSTRUCTED_DIR = REPO / "Tests" / "Fixtures" / "functions" / "instructed"


def fnhost(*args, stdin=None, cwd=None, timeout=60):
    return subprocess.run([str(FNHOST_BIN), *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd or str(REPO), env=dict(os.environ))


def test_local_invoke_success_stdin(tmp_path):
    result = fnhost("invoke", "PythonHello", "--template", str(EXAMPLE_TEMPLATE), "--event", "-",
                    "--state-dir", str(tmp_path / "state"), stdin='{"name": "Local"}')
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["message"] == "Hello, Local!"
    assert body["function"] == "PythonHello"
    # Logs go to stderr, not into the payload.
    assert f"START RequestId: {body['requestId']}" in result.stderr
    assert f"REPORT RequestId: {body['requestId']}" in result.stderr


def test_local_invoke_event_file(tmp_path):
    event = tmp_path / "event.json"
    event.write_text('{"name": "File"}')
    result = fnhost("invoke", "NodeHello", "--template", str(EXAMPLE_TEMPLATE), "--event", str(event),
                    "--state-dir", str(tmp_path / "state"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["message"] == "Hello, File!"


def test_local_invoke_without_event(tmp_path):
    result = fnhost("invoke", "CNoop", "--template", str(EXAMPLE_TEMPLATE), "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {}


def test_local_invoke_function_error(tmp_path):
    result = fnhost("invoke", "AlwaysFails", "--template", str(EXAMPLE_TEMPLATE),
                    "--state-dir", str(tmp_path / "state"))
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["errorType"] == "TypeError"
    assert body["errorMessage"] == "this function always fails"


def test_local_invoke_unknown_function(tmp_path):
    result = fnhost("invoke", "Nope", "--template", str(EXAMPLE_TEMPLATE), "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 2
    assert "Nope" in result.stderr
    assert result.stdout == ""


def test_local_invoke_bad_event_json(tmp_path):
    # The Invoke API refuses a non-JSON payload (InvalidRequestContentException) and `fnhost invoke --endpoint`
    # exits 2 for it; local mode should refuse it the same way instead of handing it to the function.
    result = fnhost("invoke", "PythonHello", "--template", str(EXAMPLE_TEMPLATE), "--event", "-",
                    "--state-dir", str(tmp_path / "s"), stdin="not json")
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)


def _template(tmp_path, properties: str):
    path = tmp_path / "broken-template.yaml"
    path.write_text(
        "AWSTemplateFormatVersion: \"2010-09-09\"\n"
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  BrokenTimeoutFn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        f"      CodeUri: {INSTRUCTED_DIR}\n"
        "      Handler: app.handler\n"
        "      Runtime: python3.12\n"
        f"{properties}")
    return path


@pytest.mark.parametrize("timeout", ["0", "901"])
def test_template_with_bad_timeout(tmp_path, timeout):
    template = _template(tmp_path, f"      Timeout: {timeout}\n")
    result = fnhost("invoke", "BrokenTimeoutFn", "--template", str(template), "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 2
    assert str(template) in result.stderr
    assert "BrokenTimeoutFn" in result.stderr
    assert "Timeout" in result.stderr
    assert result.stdout == ""


def test_template_that_does_not_parse(tmp_path):
    template = tmp_path / "unparsable.yaml"
    template.write_text("Resources: [\n  Fn: {\n    Type: AWS::Serverless::Function\n")
    result = fnhost("invoke", "Fn", "--template", str(template), "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 2
    assert str(template) in result.stderr
    assert result.stdout == ""


def test_missing_template(tmp_path):
    result = fnhost("invoke", "Fn", "--template", str(tmp_path / "absent.yaml"), "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 2
    assert "absent.yaml" in result.stderr


def test_serve_refuses_a_broken_template(tmp_path):
    template = _template(tmp_path, "      Timeout: 0\n")
    result = fnhost("serve", "--template", str(template), "--port", "0", "--state-dir", str(tmp_path / "s"),
                    timeout=30)
    assert result.returncode == 2
    assert "BrokenTimeoutFn" in result.stderr and "Timeout" in result.stderr


def test_serve_on_a_port_in_use_names_the_address(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = fnhost("serve", "--template", str(EXAMPLE_TEMPLATE), "--port", str(port),
                        "--state-dir", str(tmp_path / "s"), timeout=30)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Address already in use" in result.stderr


def test_serve_runs_a_template_without_functions(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text("Resources:\n  OnlyAQueue:\n    Type: AWS::SQS::Queue\n")
    host = start_host(template, tmp_path / "state")
    try:
        assert host.process.poll() is None
        with urllib.request.urlopen(host.endpoint + "/2015-03-31/functions/") as response:
            assert json.load(response)["Functions"] == []
    finally:
        assert host.terminate(timeout=10) == 0, host.stderr()[-2000:]


def test_endpoint_invoke(example_host):
    result = fnhost("invoke", "PythonHello", "--endpoint", example_host.endpoint, "--event", "-",
                    stdin='{"name": "Remote"}')
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["message"] == "Hello, Remote!"
    # It really ran in the serving host.
    assert f"[PythonHello] START RequestId: {body['requestId']}" in example_host.stdout()


def test_endpoint_invoke_function_error(example_host):
    result = fnhost("invoke", "AlwaysFails", "--endpoint", example_host.endpoint)
    assert result.returncode == 1
    assert json.loads(result.stdout)["errorType"] == "TypeError"


def test_endpoint_invoke_unknown_function(example_host):
    result = fnhost("invoke", "Nope", "--endpoint", example_host.endpoint)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Nope" in result.stderr


def test_endpoint_invoke_bad_event_json(example_host):
    result = fnhost("invoke", "PythonHello", "--endpoint", example_host.endpoint, "--event", "-", stdin="not json")
    assert result.returncode == 2
    assert "InvalidRequestContentException" in result.stderr


def test_endpoint_unreachable(tmp_path):
    # Nothing listens on a port we just bound and released: the connection is refused at once.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    try:
        result = fnhost("invoke", "PythonHello", "--endpoint", endpoint, timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`fnhost invoke --endpoint {endpoint}` still had not given up after 15 s (connection refused)")
    assert result.returncode == 2
    assert endpoint in result.stderr


def test_a_node_runtime_on_another_major_version_warns_once(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "index.js").write_text("exports.handler = async (event) => ({ok: true});\n")
    installed = int(subprocess.run(["node", "-p", "process.versions.node.split('.')[0]"], capture_output=True,
                                   text=True, check=True).stdout)
    other = 18 if installed != 18 else 20
    (tmp_path / "template.yaml").write_text(f"""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Other:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: nodejs{other}.x, Handler: index.handler, CodeUri: src}}
  Same:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: nodejs{installed}.x, Handler: index.handler, CodeUri: src}}
""")
    result = fnhost("invoke", "Other", "--template", str(tmp_path / "template.yaml"), "--event", "-", stdin="{}",
                    cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "functions run with node" in line]
    assert len(warnings) == 1, result.stderr
    assert f"nodejs{other}.x" in warnings[0] and f"not node {other}" in warnings[0]
