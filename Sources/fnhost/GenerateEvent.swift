import ArgumentParser
import Foundation
import FunctionHostCore
import FunctionHostQueues

/// `fnhost generate-event SOURCE`: prints a valid sample event, as `sam local generate-event`
/// does, shaped as fnhost (and Lambda) deliver it.
struct GenerateEvent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-event",
        abstract: "Print a sample event for a function: sqs, kinesis, dynamodb, schedule, sns, s3 or apigateway.",
        discussion: "Pipe it into `fnhost invoke NAME --event -`.")

    /// The event sources, parsed at the edge.
    enum Source: String, ExpressibleByArgument, CaseIterable {
        case sqs, kinesis, dynamodb, schedule, sns, s3, apigateway
    }

    @Argument(help: ArgumentHelp("The event source.", valueName: Source.allCases.map(\.rawValue).joined(separator: "|")))
    var source: Source

    @Option(help: "The payload: the SQS body, SNS message, Kinesis data (base64-encoded for you), DynamoDB Message attribute or API Gateway body.")
    var body: String?

    @Option(help: "The Kinesis partition key.")
    var partitionKey = "partitionKey-03"

    @Option(help: "The queue, stream, table, topic, bucket or rule the event names.")
    var name: String?

    @Option(help: "The S3 object key, or the API Gateway path.")
    var key: String?

    @Option(help: "The API Gateway HTTP method.")
    var method = "GET"

    @Option(help: "Account id in ARNs.")
    var account = "123456789012"

    @Option(help: "Region in ARNs.")
    var region = "us-east-1"

    func run() throws {
        let event: [String: Any]
        switch source {
        case .sqs: event = sqs()
        case .kinesis: event = kinesis()
        case .dynamodb: event = dynamodb()
        case .schedule: event = schedule()
        case .sns: event = sns()
        case .s3: event = s3()
        case .apigateway: event = apigateway()
        }
        let data = try JSONSerialization.data(withJSONObject: event, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    private var now: Date { Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)) }
    private var epochMillis: String { String(Int64(now.timeIntervalSince1970 * 1000)) }
    private func iso(_ date: Date, fractional: Bool = false) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: fractional))
    }

    private func sqs() -> [String: Any] {
        let text = body ?? "Hello from SQS!"
        let queue = name ?? "MyQueue"
        return ["Records": [[
            "messageId": UUID().uuidString.lowercased(), "receiptHandle": "MessageReceiptHandle", "body": text,
            "attributes": [
                "ApproximateReceiveCount": "1", "SentTimestamp": epochMillis, "SenderId": account,
                "ApproximateFirstReceiveTimestamp": epochMillis,
            ],
            "messageAttributes": [String: Any](), "md5OfBody": MessageDigest.body(text), "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:\(region):\(account):\(queue)", "awsRegion": region,
        ]]]
    }

    private func kinesis() -> [String: Any] {
        let sequence = "49545115243490985018280067714973144582180062593244200961"
        return ["Records": [[
            "kinesis": [
                "kinesisSchemaVersion": "1.0", "partitionKey": partitionKey, "sequenceNumber": sequence,
                "data": Data((body ?? "Hello, this is a test 123.").utf8).base64EncodedString(),
                "approximateArrivalTimestamp": now.timeIntervalSince1970,
            ],
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000000:\(sequence)",
            "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::\(account):role/lambda-role",
            "awsRegion": region, "eventSourceARN": "arn:aws:kinesis:\(region):\(account):stream/\(name ?? "MyStream")",
        ]]]
    }

    private func dynamodb() -> [String: Any] {
        let message = body ?? "New item!"
        let keys: [String: Any] = ["Id": ["N": "101"]]
        return ["Records": [[
            "eventID": "c4ca4238a0b923820dcc509a6f75849b", "eventName": "INSERT", "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": region,
            "dynamodb": [
                "Keys": keys, "NewImage": ["Message": ["S": message], "Id": ["N": "101"]],
                "ApproximateCreationDateTime": Int(now.timeIntervalSince1970),
                "SequenceNumber": "4421584500000000017450439091", "SizeBytes": 26 + message.utf8.count,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            ],
            "eventSourceARN":
                "arn:aws:dynamodb:\(region):\(account):table/\(name ?? "ExampleTable")/stream/2015-06-27T00:48:05.899",
        ]]]
    }

    private func schedule() -> [String: Any] {
        [
            "version": "0", "id": UUID().uuidString.lowercased(), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": account, "time": iso(now), "region": region,
            "resources": ["arn:aws:events:\(region):\(account):rule/\(name ?? "ExampleRule")"],
            "detail": [String: Any](),
        ]
    }

    private func sns() -> [String: Any] {
        let topic = "arn:aws:sns:\(region):\(account):\(name ?? "ExampleTopic")"
        let subscription = topic + ":" + UUID().uuidString.lowercased()
        return ["Records": [[
            "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription,
            "Sns": [
                "Type": "Notification", "MessageId": UUID().uuidString.lowercased(), "TopicArn": topic,
                "Subject": "example subject", "Message": body ?? "example message", "Timestamp": iso(now, fractional: true),
                "SignatureVersion": "1", "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.\(region).amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
                "UnsubscribeUrl":
                    "https://sns.\(region).amazonaws.com/?Action=Unsubscribe&SubscriptionArn=\(subscription)",
                "MessageAttributes": ["Test": ["Type": "String", "Value": "TestString"]],
            ],
        ]]]
    }

    private func s3() -> [String: Any] {
        let bucket = name ?? "example-bucket"
        return ["Records": [[
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region, "eventTime": iso(now, fractional: true),
            "eventName": "ObjectCreated:Put", "userIdentity": ["principalId": "EXAMPLE"],
            "requestParameters": ["sourceIPAddress": "127.0.0.1"],
            "responseElements": ["x-amz-request-id": "EXAMPLE123456789", "x-amz-id-2": "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH"],
            "s3": [
                "s3SchemaVersion": "1.0", "configurationId": "testConfigRule",
                "bucket": ["name": bucket, "ownerIdentity": ["principalId": "EXAMPLE"], "arn": "arn:aws:s3:::\(bucket)"],
                "object": ["key": key ?? "test/key", "size": 1024, "eTag": "0123456789abcdef0123456789abcdef",
                    "sequencer": "0A1B2C3D4E5F678901"],
            ],
        ]]]
    }

    private func apigateway() -> [String: Any] {
        let path = key ?? "/hello"
        let headers: [String: String] = ["Accept": "*/*", "Host": "example.execute-api.\(region).amazonaws.com", "User-Agent": "fnhost"]
        return [
            "resource": path, "path": path, "httpMethod": method.uppercased(), "headers": headers,
            "multiValueHeaders": headers.mapValues { [$0] }, "queryStringParameters": NSNull(),
            "multiValueQueryStringParameters": NSNull(), "pathParameters": NSNull(), "stageVariables": NSNull(),
            "body": body.map { $0 as Any } ?? NSNull(), "isBase64Encoded": false,
            "requestContext": [
                "accountId": account, "apiId": "1234567890", "resourceId": "123456", "stage": "Prod",
                "requestId": UUID().uuidString.lowercased(), "requestTime": "\(Int(now.timeIntervalSince1970))",
                "requestTimeEpoch": Int64(now.timeIntervalSince1970 * 1000), "path": "/Prod" + path,
                "resourcePath": path, "httpMethod": method.uppercased(), "protocol": "HTTP/1.1",
                "domainName": "example.execute-api.\(region).amazonaws.com",
                "identity": ["sourceIp": "127.0.0.1", "userAgent": "fnhost", "accountId": NSNull(), "user": NSNull()],
            ],
        ]
    }
}
