/// Where fnhost reaches a real AWS-compatible service (external queues and streams): the standard
/// endpoint settings, in the SDKs' order.
///
/// `AWS_ENDPOINT_URL_<SERVICE>` (`SQS`, `KINESIS`, `DYNAMODB_STREAMS`, `DYNAMODB` for lease tables), else `AWS_ENDPOINT_URL`,
/// else the service's regional AWS endpoint. Pure; the environment is passed in.
public enum AWSServiceEndpoint: String, Sendable, CaseIterable {
    case sqs = "SQS"
    case kinesis = "KINESIS"
    case dynamoDBStreams = "DYNAMODB_STREAMS"
    case dynamoDB = "DYNAMODB"

    /// The SigV4 signing name.
    public var signingName: String {
        switch self {
        case .sqs: "sqs"
        case .kinesis: "kinesis"
        case .dynamoDBStreams, .dynamoDB: "dynamodb"
        }
    }

    /// The endpoint URL, without a trailing `/`.
    public func url(region: String, environment: [String: String]) -> String {
        for key in ["AWS_ENDPOINT_URL_\(rawValue)", "AWS_ENDPOINT_URL"] {
            if let value = environment[key], !value.isEmpty {
                return value.hasSuffix("/") ? String(value.dropLast()) : value
            }
        }
        switch self {
        case .sqs: return "https://sqs.\(region).amazonaws.com"
        case .kinesis: return "https://kinesis.\(region).amazonaws.com"
        case .dynamoDBStreams: return "https://streams.dynamodb.\(region).amazonaws.com"
        case .dynamoDB: return "https://dynamodb.\(region).amazonaws.com"
        }
    }
}
