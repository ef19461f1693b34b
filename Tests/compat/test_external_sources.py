"""Event sources the template does not define, read from a real service: ``moto_server`` on loopback
serves SQS, Kinesis and DynamoDB Streams on one port, and the host finds it through the standard
``AWS_ENDPOINT_URL`` setting, signing every request with SigV4.

The queue, the stream and the table are created in moto first; the template (written per test run)
names them by ARN. The ``recorder`` fixture logs every event as ``RECORDED <json>``; each is parsed
with powertools' models. The host runs with distinctive credentials that must never reach its output.
"""

from __future__ import annotations

import json
import uuid

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel, KinesisDataStreamModel, SqsModel

from conftest import aws_client as client, lambda_client, recorder_template, start_host, wait_for

ACCOUNT = "123456789012"
SECRET = "ext-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def sources(moto):
    """The external queue, stream and table, created in moto; yields their ARNs."""
    sqs, kinesis, dynamodb = client("sqs", moto), client("kinesis", moto), client("dynamodb", moto)
    queue_url = sqs.create_queue(QueueName="ext-jobs", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    # In another region than the host's: moto keeps regions apart by the region a request is signed for.
    european_url = client("sqs", moto, "eu-west-1").create_queue(QueueName="ext-jobs-eu")["QueueUrl"]
    kinesis.create_stream(StreamName="ext-clicks", ShardCount=1)
    table = dynamodb.create_table(
        TableName="ext-orders", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    filtered = dynamodb.create_table(
        TableName="ext-filtered", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return {
        "filtered_stream": filtered["TableDescription"]["LatestStreamArn"],
        "queue_url": queue_url, "queue": f"arn:aws:sqs:us-east-1:{ACCOUNT}:ext-jobs",
        "european_queue_url": european_url, "european_queue": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:ext-jobs-eu",
        "stream": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/ext-clicks",
        "table_stream": table["TableDescription"]["LatestStreamArn"],
    }


@pytest.fixture(scope="module")
def host(moto, sources, tmp_path_factory):
    directory = tmp_path_factory.mktemp("external-host")
    template = directory / "template.yaml"
    template.write_text(recorder_template({
        "FromQueue": f'Jobs: {{Type: SQS, Properties: {{Queue: "{sources["queue"]}", BatchSize: 5}}}}',
        "FromEuropeanQueue": f'Jobs: {{Type: SQS, Properties: {{Queue: "{sources["european_queue"]}"}}}}',
        "FromStream": f'Clicks: {{Type: Kinesis, Properties: {{Stream: "{sources["stream"]}", StartingPosition: TRIM_HORIZON}}}}',
        "FromTable": f'Orders: {{Type: DynamoDB, Properties: {{Stream: "{sources["table_stream"]}", StartingPosition: TRIM_HORIZON}}}}',
        "FromAPI": None,
        "FromFilteredTable": f"""
            Orders:
              Type: DynamoDB
              Properties:
                Stream: "{sources['filtered_stream']}"
                StartingPosition: TRIM_HORIZON
                FilterCriteria:
                  Filters:
                    - Pattern: '{{"eventName": ["INSERT"], "dynamodb": {{"NewImage": {{"kind": {{"S": ["keep"]}}}}}}}}'
            """,
    }))
    host = start_host(template, directory, env={
        "AWS_ENDPOINT_URL": moto, "AWS_ACCESS_KEY_ID": "AKIDEXTERNALTEST", "AWS_SECRET_ACCESS_KEY": SECRET})
    try:
        yield host
    finally:
        assert host.terminate(timeout=15) == 0, host.stderr()[-2000:]


def events(host, function: str) -> list[dict]:
    return [json.loads(line.split("RECORDED ", 1)[1]) for line in host.log_text(function).splitlines()
            if "RECORDED " in line]


def test_an_external_sqs_queue_feeds_its_mapping_and_is_emptied(host, moto, sources):
    sqs = client("sqs", moto)
    bodies = [json.dumps({"n": n, "run": uuid.uuid4().hex}) for n in range(7)]
    for body in bodies:
        sqs.send_message(QueueUrl=sources["queue_url"], MessageBody=body)

    def delivered():
        return sorted(r["body"] for e in events(host, "FromQueue") for r in e["Records"] if r["body"] in bodies)

    wait_for(lambda: delivered() == sorted(bodies), 60, what="the external queue's messages")
    for event in events(host, "FromQueue"):
        SqsModel.model_validate(event)
        assert all(r["eventSourceARN"] == sources["queue"] for r in event["Records"])

    def empty():
        attributes = sqs.get_queue_attributes(QueueUrl=sources["queue_url"], AttributeNames=["All"])["Attributes"]
        return attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"

    wait_for(empty, 30, what="the delivered messages deleted from the external queue")


def test_a_queue_in_another_region_is_read_in_its_own_region(host, moto, sources):
    # Signed for eu-west-1 (the ARN's region), not the host's us-east-1, or moto would not find it.
    body = json.dumps({"run": uuid.uuid4().hex})
    client("sqs", moto, "eu-west-1").send_message(QueueUrl=sources["european_queue_url"], MessageBody=body)
    record = wait_for(lambda: next((r for e in events(host, "FromEuropeanQueue") for r in e["Records"]
                                    if r["body"] == body), None), 60, what="the European queue's message")
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == sources["european_queue"]


def test_an_external_kinesis_stream_feeds_its_mapping_in_order(host, moto, sources):
    kinesis = client("kinesis", moto)
    run = uuid.uuid4().hex
    for n in range(6):
        kinesis.put_record(StreamName="ext-clicks", Data=json.dumps({"run": run, "n": n}).encode(), PartitionKey="k")

    def delivered():
        found = []
        for event in events(host, "FromStream"):
            for record in KinesisDataStreamModel.model_validate(event).Records:
                data = json.loads(record.kinesis.data)
                if data["run"] == run:
                    found.append(data["n"])
        return found

    assert wait_for(lambda: (d := delivered()) and len(d) >= 6 and d, 60, what="the external stream's records") \
        == [0, 1, 2, 3, 4, 5]
    record = events(host, "FromStream")[0]["Records"][0]
    assert record["eventSourceARN"] == sources["stream"] and record["eventSource"] == "aws:kinesis"


def test_a_dynamodb_stream_feeds_its_mapping_with_lambdas_record_shape(host, moto, sources):
    dynamodb = client("dynamodb", moto)
    key = uuid.uuid4().hex
    dynamodb.put_item(TableName="ext-orders", Item={"id": {"S": key}, "amount": {"N": "5"}})
    dynamodb.update_item(TableName="ext-orders", Key={"id": {"S": key}}, UpdateExpression="SET amount = :t",
                         ExpressionAttributeValues={":t": {"N": "7"}})
    dynamodb.delete_item(TableName="ext-orders", Key={"id": {"S": key}})

    def changes():
        return [r for e in events(host, "FromTable") for r in e["Records"]
                if r["dynamodb"]["Keys"] == {"id": {"S": key}}]

    found = wait_for(lambda: (c := changes()) and len(c) >= 3 and c, 60, what="three changes of the item")
    assert [r["eventName"] for r in found] == ["INSERT", "MODIFY", "REMOVE"]
    for event in events(host, "FromTable"):
        DynamoDBStreamModel.model_validate(event)
    insert, modify, remove = found
    assert "OldImage" not in insert["dynamodb"] and insert["dynamodb"]["NewImage"]["amount"] == {"N": "5"}
    assert modify["dynamodb"]["OldImage"]["amount"] == {"N": "5"} and modify["dynamodb"]["NewImage"]["amount"] == {"N": "7"}
    assert "NewImage" not in remove["dynamodb"]
    assert all(r["eventSource"] == "aws:dynamodb" and r["eventSourceARN"] == sources["table_stream"] for r in found)
    sequence_numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in found]
    assert sequence_numbers == sorted(sequence_numbers)


def test_a_dynamodb_streams_filter_criteria_deliver_only_matching_changes(host, moto, sources):
    dynamodb = client("dynamodb", moto)
    kept, dropped = uuid.uuid4().hex, uuid.uuid4().hex
    dynamodb.put_item(TableName="ext-filtered", Item={"id": {"S": dropped}, "kind": {"S": "drop"}})
    dynamodb.put_item(TableName="ext-filtered", Item={"id": {"S": kept}, "kind": {"S": "keep"}})
    dynamodb.update_item(TableName="ext-filtered", Key={"id": {"S": kept}}, UpdateExpression="SET n = :n",
                         ExpressionAttributeValues={":n": {"N": "1"}})  # MODIFY: not an INSERT
    dynamodb.delete_item(TableName="ext-filtered", Key={"id": {"S": dropped}})
    last = uuid.uuid4().hex
    dynamodb.put_item(TableName="ext-filtered", Item={"id": {"S": last}, "kind": {"S": "keep"}})

    def delivered():
        return [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for e in events(host, "FromFilteredTable")
                for r in e["Records"]]

    wait_for(lambda: (last in {k for _, k in delivered()}), 60, what="the last matching change")
    assert delivered() == [("INSERT", kept), ("INSERT", last)]
    for event in events(host, "FromFilteredTable"):
        DynamoDBStreamModel.model_validate(event)


def test_the_mapping_api_maps_queues_and_streams_the_host_does_not_have(host, moto, sources):
    lam = lambda_client(host.endpoint)
    sqs, kinesis, dynamodb = client("sqs", moto), client("kinesis", moto), client("dynamodb", moto)
    run = uuid.uuid4().hex
    url = sqs.create_queue(QueueName="ext-api-" + run[:8])["QueueUrl"]
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:ext-api-{run[:8]}"
    kinesis.create_stream(StreamName="ext-api-" + run[:8], ShardCount=1)
    stream = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/ext-api-{run[:8]}"
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(FunctionName="FromAPI", EventSourceArn=queue + "-missing")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(FunctionName="FromAPI", EventSourceArn=stream + "-missing",
                                        StartingPosition="TRIM_HORIZON")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(FunctionName="FromAPI", EventSourceArn=sources["table_stream"],
                                        StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1)
    on_queue = lam.create_event_source_mapping(FunctionName="FromAPI", EventSourceArn=queue, BatchSize=5)
    on_stream = lam.create_event_source_mapping(FunctionName="FromAPI", EventSourceArn=stream,
                                                StartingPosition="TRIM_HORIZON")
    on_table = lam.create_event_source_mapping(FunctionName="FromAPI", EventSourceArn=sources["table_stream"],
                                               StartingPosition="TRIM_HORIZON")
    assert (on_queue["EventSourceArn"], on_stream["EventSourceArn"]) == (queue, stream)
    assert lam.update_event_source_mapping(UUID=on_queue["UUID"], BatchSize=3)["BatchSize"] == 3
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"run": run}))
    kinesis.put_record(StreamName="ext-api-" + run[:8], Data=json.dumps({"run": run}).encode(), PartitionKey="k")
    dynamodb.put_item(TableName="ext-orders", Item={"id": {"S": run}})

    def sources_seen():
        seen = set()
        for event in events(host, "FromAPI"):
            for record in event["Records"]:
                if record.get("body") == json.dumps({"run": run}):
                    seen.add("sqs")
                elif "kinesis" in record and run in KinesisDataStreamModel.model_validate(
                        {"Records": [record]}).Records[0].kinesis.data.decode():
                    seen.add("kinesis")
                elif record.get("dynamodb", {}).get("Keys") == {"id": {"S": run}}:
                    seen.add("dynamodb")
        return seen

    wait_for(lambda: sources_seen() == {"sqs", "kinesis", "dynamodb"}, 60, what="a record from each external source")
    for uuid_ in (on_queue["UUID"], on_stream["UUID"], on_table["UUID"]):
        lam.delete_event_source_mapping(UUID=uuid_)


def test_credentials_never_reach_the_hosts_output(host):
    assert events(host, "FromQueue"), "run after the mappings did something"
    output = host.stdout() + host.stderr()
    for log in (host.state_dir / "state" / "logs").glob("*.log"):
        output += log.read_text(errors="replace")
    assert SECRET not in output
