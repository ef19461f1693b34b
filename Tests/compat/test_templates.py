"""Existing SAM, CloudFormation and CDK projects run unchanged (issue 12), with the real clients.

Templates live in Tests/Fixtures/templates, written the way ``sam init`` and ``cdk synth`` write
them: a CDK JSON template with asset metadata, a nested application, a template mixing functions
fnhost runs with ones it cannot, and one for runtime details (partial output lines, /bin/sh,
non-ASCII JSON, region, SAM's environment file and parameter overrides).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import (ACCOUNT, FNHOST_BIN, REPO, decode_log_result, invoke_json, lambda_client, start_host,
                      wait_for)

TEMPLATES = REPO / "Tests" / "Fixtures" / "templates"


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    started = {}

    def host(name, template, *args):
        if name not in started:
            started[name] = start_host(template, tmp_path_factory.mktemp(name), *args)
        return started[name]

    yield host
    for started_host in started.values():
        assert started_host.terminate(timeout=10) == 0, started_host.stderr()[-2000:]


def run_fnhost(*args, env_extra=None, timeout=60):
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(env_extra or {})
    return subprocess.run([str(FNHOST_BIN), *args], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=str(REPO))


# Templates


def test_cdk_function_with_asset_code_and_layer_answers_boto3(hosts):
    host = hosts("cdk", TEMPLATES / "cdk" / "FnhostCdkStack.template.json")
    client = lambda_client(host.endpoint)
    response, body = invoke_json(client, "HelloHandler2E4FBA4D", {"from": "boto3"})
    assert "FunctionError" not in response, body
    assert body == {"greeting": "hello from local in us-east-1", "shared": "from the CDK layer asset",
                    "function": "HelloHandler2E4FBA4D", "event": {"from": "boto3"}}
    response, body = invoke_json(client, "InlineHandlerB3C5D1F2", {"n": 1})
    assert body == {"inline": True, "event": {"n": 1}}
    assert "CDKMetadata" not in host.stderr()


def test_nested_child_is_invoked_as_child_slash_function(hosts):
    host = hosts("nested", TEMPLATES / "nested" / "template.yaml", "--parameter-overrides", "Stage=prod")
    client = lambda_client(host.endpoint)
    # boto3 percent-encodes the slash: POST /2015-03-31/functions/OrdersApp%2FOrdersFunction/invocations.
    response, body = invoke_json(client, "OrdersApp/OrdersFunction", {})
    assert "FunctionError" not in response, body
    assert body == {"function": "OrdersApp/OrdersFunction", "stage": "prod", "table": "orders-prod",
                    "stack": "local-OrdersApp"}
    response, body = invoke_json(client, "named-orders-prod", {})
    assert body["function"] == "named-orders-prod"
    response, body = invoke_json(client, "HelloWorldFunction", {})
    assert body == {"orders_function": "OrdersApp/OrdersFunction", "orders_table": "orders-prod"}
    wait_for(lambda: "END RequestId" in host.log_text("OrdersApp/OrdersFunction"), 5,
             what="the child's log file under logs/OrdersApp/")
    client.put_function_concurrency(FunctionName="OrdersApp/OrdersFunction", ReservedConcurrentExecutions=2)
    assert client.get_function_concurrency(FunctionName="OrdersApp/OrdersFunction")["ReservedConcurrentExecutions"] == 2
    assert client.get_function(FunctionName="OrdersApp/OrdersFunction")["Configuration"]["Handler"] == "orders.handler"
    names = {function["FunctionName"] for function in client.list_functions()["Functions"]}
    assert {"HelloWorldFunction", "OrdersApp/OrdersFunction", "named-orders-prod"} <= names


def test_mixed_template_serves_what_it_can_and_names_what_it_skips(hosts):
    host = hosts("mixed", TEMPLATES / "mixed" / "template.yaml")
    assert host.function_count == 4
    for name, reason in [("ImageFunction", "PackageType Image"), ("JavaFunction", "java21"),
                         ("RubyFunction", "ruby3.3"), ("DuplicateNameFunction", "orders-handler")]:
        lines = [line for line in host.stderr().splitlines() if f"skipping function {name}:" in line]
        assert len(lines) == 1 and reason in lines[0], host.stderr()
    client = lambda_client(host.endpoint)
    response, body = invoke_json(client, "orders-handler", {"a": 1})
    assert body == {"function": "orders-handler", "event": {"a": 1}}
    response, body = invoke_json(client, "InlineNodeFunction", {"b": 2})
    assert body == {"inline": "node", "event": {"b": 2}}
    response, body = invoke_json(client, "PlainLambdaFunction", {})
    assert body["function"] == "PlainLambdaFunction"
    response, body = invoke_json(client, "PublishedLayerFunction", {})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.LayerUnavailable"
    assert "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7" in body["errorMessage"]


def test_list_marks_skipped_functions_and_validate_strict_fails_on_them(tmp_path):
    template = str(TEMPLATES / "mixed" / "template.yaml")
    state = str(tmp_path / "state")
    listed = run_fnhost("list", "--template", template, "--state-dir", state)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert any(line.startswith("JavaFunction\tskipped: runtime java21") for line in lines), listed.stdout
    assert any(line.startswith("PublishedLayerFunction") and "fails at invoke" in line for line in lines)
    assert any(line.startswith("orders-handler (PythonFunction)\tpython3.12") for line in lines)

    relaxed = run_fnhost("validate", "--template", template, "--state-dir", state)
    assert relaxed.returncode == 0
    assert "OK, 4 functions" in relaxed.stdout
    strict = run_fnhost("validate", "--strict", "--template", template, "--state-dir", state)
    assert strict.returncode == 2
    for name in ["ImageFunction", "JavaFunction", "RubyFunction", "DuplicateNameFunction", "PublishedLayerFunction"]:
        assert name in strict.stderr


def test_template_errors_still_exit_2_naming_file_resource_and_property(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text("Parameters:\n  Needed: {Type: String}\nResources:\n  Fn:\n"
                        "    Type: AWS::Serverless::Function\n"
                        "    Properties: {CodeUri: ., Handler: a.b, Runtime: python3.12, Description: !Ref Needed}\n")
    result = run_fnhost("validate", "--template", str(template))
    assert result.returncode == 2
    assert f"{template}: resource Fn: property Description: parameter Needed has no Default" in result.stderr
    supplied = run_fnhost("validate", "--template", str(template), "--parameter-overrides", "Needed=yes Other='x y'")
    assert supplied.returncode == 0, supplied.stderr


# Runtime fidelity


def test_partial_line_belongs_to_the_invocation_that_wrote_it(hosts):
    host = hosts("runtime", TEMPLATES / "runtime" / "template.yaml")
    client = lambda_client(host.endpoint)
    first = client.invoke(FunctionName="ShellRuntime", Payload=b"{}", LogType="Tail")
    first_id = json.loads(first["Payload"].read())["request"]
    tail = decode_log_result(first)
    assert f"partial output of {first_id}\n" in tail, tail
    assert tail.index(f"partial output of {first_id}") < tail.index(f"END RequestId: {first_id}")

    second = client.invoke(FunctionName="ShellRuntime", Payload=b"{}", LogType="Tail")
    second_id = json.loads(second["Payload"].read())["request"]
    second_tail = decode_log_result(second)
    assert first_id not in second_tail
    assert f"partial output of {second_id}\n" in second_tail

    log = host.log_text("ShellRuntime")
    for request_id in (first_id, second_id):
        line = f"partial output of {request_id}\n"
        assert line in log
        assert log.index(line) < log.index(f"END RequestId: {request_id}")


def test_bin_sh_is_bash_inside_the_sandbox(hosts):
    client = lambda_client(hosts("runtime", TEMPLATES / "runtime" / "template.yaml").endpoint)
    response, body = invoke_json(client, "ShellRuntime", {})
    assert "FunctionError" not in response, body
    assert body["shell"] == "bash"


def test_python_3_13_returns_non_ascii_unescaped(hosts):
    client = lambda_client(hosts("runtime", TEMPLATES / "runtime" / "template.yaml").endpoint)
    raw = client.invoke(FunctionName="Unicode313", Payload=b"{}")["Payload"].read()
    assert "héllo ✓ 日本".encode() in raw, raw
    assert b"\\u" not in raw


def test_env_vars_file_and_parameter_overrides_on_serve(tmp_path):
    host = start_host(TEMPLATES / "runtime" / "template.yaml", tmp_path,
                      "--env-vars", str(TEMPLATES / "runtime" / "env.json"),
                      "--parameter-overrides", "Greeting=bonjour")
    try:
        response, body = invoke_json(lambda_client(host.endpoint), "Context", {})
        assert body["greeting"] == "bonjour"
        assert body["from_file"] == "env file"
        assert body["shared"] == "for everyone"
        assert body["undeclared"] is None
    finally:
        assert host.terminate() == 0


@pytest.mark.parametrize("args, env, region", [
    ((), {"AWS_REGION": "eu-west-1"}, "eu-west-1"),
    ((), {"AWS_DEFAULT_REGION": "ap-southeast-2"}, "ap-southeast-2"),
    ((), {}, "us-east-1"),
    (("--region", "eu-central-1"), {"AWS_REGION": "eu-west-1"}, "eu-central-1"),
])
def test_region_resolves_as_the_aws_tools_do(tmp_path, args, env, region):
    result = run_fnhost("invoke", "Context", "--template", str(TEMPLATES / "runtime" / "template.yaml"),
                        "--state-dir", str(tmp_path), "--env-vars", str(TEMPLATES / "runtime" / "env.json"),
                        "--parameter", "Greeting=hi", *args, env_extra=env)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["region"] == region
    assert body["arn"] == f"arn:aws:lambda:{region}:{ACCOUNT}:function:Context"
    assert body["greeting"] == "hi"
    assert body["from_file"] == "env file"
