"""Control plane through boto3: ListFunctions (and its paginator), GetFunction, GetFunctionConfiguration."""

import re

import pytest
from botocore.exceptions import ClientError

from conftest import ARN_PREFIX, EXAMPLE_FUNCTIONS, FIXTURE_FUNCTIONS

LAST_MODIFIED_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
SHA256_B64_RE = re.compile(r"^[A-Za-z0-9+/]{43}=$")

EXAMPLE_SHAPES = {
    # name: (Runtime, Handler, MemorySize, Timeout)
    "PythonHello": ("python3.12", "app.handler", 256, 10),
    "NodeHello": ("nodejs20.x", "index.handler", 256, 10),
    "ShellCurl": ("provided.al2023", "function.handler", 256, 10),
    "CNoop": ("provided.al2023", "noop", 128, 10),
    "SwiftHello": ("provided.al2023", "hello", 256, 10),
    "PythonRic": ("provided.al2023", "app.handler", 256, 10),
    "Slow": ("python3.11", "app.handler", 256, 1),
    "AlwaysFails": ("nodejs20.x", "index.handler", 256, 10),
}


def check_configuration(config, name):
    runtime, handler, memory, timeout = EXAMPLE_SHAPES[name]
    assert config["FunctionName"] == name
    assert config["FunctionArn"] == ARN_PREFIX + name
    assert config["Runtime"] == runtime
    assert config["Handler"] == handler
    assert config["MemorySize"] == memory
    assert config["Timeout"] == timeout
    assert isinstance(config["LastModified"], str) and LAST_MODIFIED_RE.match(config["LastModified"]), \
        config["LastModified"]
    assert SHA256_B64_RE.match(config["CodeSha256"]), config["CodeSha256"]
    assert config["Version"] == "$LATEST"
    assert isinstance(config["CodeSize"], int) and config["CodeSize"] > 0
    assert config["PackageType"] == "Zip"
    assert config["Role"].startswith("arn:aws:iam::")


def test_list_functions(example_lambda):
    response = example_lambda.list_functions()
    functions = {f["FunctionName"]: f for f in response["Functions"]}
    assert sorted(functions) == sorted(EXAMPLE_FUNCTIONS)
    assert "NextMarker" not in response
    for name, config in functions.items():
        check_configuration(config, name)
        # Real ListFunctions leaves State out; if the host includes it, it must be Active.
        assert config.get("State", "Active") == "Active"


def test_list_functions_fixture_host(fixture_lambda):
    names = [f["FunctionName"] for f in fixture_lambda.list_functions()["Functions"]]
    assert sorted(names) == sorted(FIXTURE_FUNCTIONS)


def test_list_functions_max_items(example_lambda):
    first = example_lambda.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2
    assert first["NextMarker"]
    second = example_lambda.list_functions(MaxItems=2, Marker=first["NextMarker"])
    assert len(second["Functions"]) == 2
    first_names = {f["FunctionName"] for f in first["Functions"]}
    second_names = {f["FunctionName"] for f in second["Functions"]}
    assert not first_names & second_names


def test_list_functions_manual_marker_loop(example_lambda):
    names, marker, calls = [], None, 0
    while True:
        kwargs = {"MaxItems": 3}
        if marker:
            kwargs["Marker"] = marker
        page = example_lambda.list_functions(**kwargs)
        calls += 1
        assert len(page["Functions"]) <= 3
        names += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
        assert calls < 10
    assert calls == 3
    assert sorted(names) == sorted(EXAMPLE_FUNCTIONS)


def test_list_functions_paginator(example_lambda):
    paginator = example_lambda.get_paginator("list_functions")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) == 4
    assert all(len(page["Functions"]) <= 2 for page in pages)
    names = [f["FunctionName"] for page in pages for f in page["Functions"]]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(EXAMPLE_FUNCTIONS)
    # MaxItems caps the total and hands back a resume token.
    limited = paginator.paginate(PaginationConfig={"MaxItems": 2, "PageSize": 2}).build_full_result()
    assert len(limited["Functions"]) == 2
    assert limited.get("NextToken")
    rest = paginator.paginate(PaginationConfig={"PageSize": 2, "StartingToken": limited["NextToken"]}) \
        .build_full_result()
    assert sorted(f["FunctionName"] for f in limited["Functions"] + rest["Functions"]) == sorted(EXAMPLE_FUNCTIONS)


@pytest.mark.parametrize("name", EXAMPLE_FUNCTIONS)
def test_get_function_configuration(example_lambda, name):
    config = example_lambda.get_function_configuration(FunctionName=name)
    check_configuration(config, name)
    assert config["State"] == "Active"
    assert config["LastUpdateStatus"] == "Successful"
    assert config["Environment"]["Variables"]["GREETING"] == "hello from fnhost"


@pytest.mark.parametrize("function_name, kwargs", [
    ("PythonHello", {}),
    ("PythonHello:$LATEST", {}),
    ("PythonHello", {"Qualifier": "$LATEST"}),
    (ARN_PREFIX + "PythonHello", {}),
    ("123456789012:function:PythonHello", {}),
])
def test_get_function(example_lambda, function_name, kwargs):
    response = example_lambda.get_function(FunctionName=function_name, **kwargs)
    config = dict(response["Configuration"])
    if config["FunctionArn"] == ARN_PREFIX + "PythonHello:$LATEST":  # qualified request: either form is fine
        config["FunctionArn"] = ARN_PREFIX + "PythonHello"
    check_configuration(config, "PythonHello")
    assert response["Configuration"]["State"] == "Active"
    assert response["Code"]["RepositoryType"] == "S3"
    assert response["Code"]["Location"]


def test_get_function_configuration_fixture(fixture_lambda):
    config = fixture_lambda.get_function_configuration(FunctionName="Instructed")
    assert config["Timeout"] == 2
    assert config["MemorySize"] == 192
    assert config["Runtime"] == "python3.12"
    assert config["Environment"]["Variables"] == {
        "GLOBAL_ONLY": "from-globals",
        "OVERRIDDEN": "function-value",
        "STAGE": "compat-stage",
        "FUNCTION_ONLY": "from-function",
    }


@pytest.mark.parametrize("call", ["get_function", "get_function_configuration"])
def test_get_unknown_function(example_lambda, call):
    with pytest.raises(ClientError) as info:
        getattr(example_lambda, call)(FunctionName="Nope")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert info.value.response["Error"]["Message"] == f"Function not found: {ARN_PREFIX}Nope"


def test_list_functions_all_versions(example_lambda):
    functions = example_lambda.list_functions(FunctionVersion="ALL")["Functions"]
    assert sorted(f["FunctionName"] for f in functions) == sorted(EXAMPLE_FUNCTIONS)
    assert {f["Version"] for f in functions} == {"$LATEST"}


def test_get_function_other_qualifier(example_lambda):
    with pytest.raises(ClientError) as info:
        example_lambda.get_function(FunctionName="PythonHello", Qualifier="3")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
