"""``fnhost generate-event``: every sample event parses with powertools' model for its source."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel, DynamoDBStreamModel, EventBridgeModel, KinesisDataStreamModel, S3Model, SnsModel,
    SqsModel)

from conftest import FNHOST_BIN


def generate(*args: str) -> dict:
    result = subprocess.run([str(FNHOST_BIN), "generate-event", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("source, model", [
    ("sqs", SqsModel), ("kinesis", KinesisDataStreamModel), ("dynamodb", DynamoDBStreamModel),
    ("schedule", EventBridgeModel), ("sns", SnsModel), ("s3", S3Model), ("apigateway", APIGatewayProxyEventModel),
])
def test_every_sample_event_is_valid(source, model):
    model.model_validate(generate(source))


def test_options_shape_the_event():
    sqs = generate("sqs", "--body", '{"order": 7}', "--name", "orders", "--region", "eu-west-1")
    record = sqs["Records"][0]
    assert record["body"] == '{"order": 7}'
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:123456789012:orders"
    kinesis = generate("kinesis", "--body", "hello", "--partition-key", "user-1")["Records"][0]["kinesis"]
    assert base64.b64decode(kinesis["data"]) == b"hello" and kinesis["partitionKey"] == "user-1"
    api = generate("apigateway", "--method", "post", "--key", "/orders", "--body", "{}")
    assert (api["httpMethod"], api["path"], api["body"]) == ("POST", "/orders", "{}")


def test_an_unknown_source_is_a_usage_error():
    result = subprocess.run([str(FNHOST_BIN), "generate-event", "kafka"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "kafka" in result.stderr
