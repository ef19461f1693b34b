import Foundation

/// One schedule that invokes a function asynchronously: an EventBridge rule (`Events: Type:
/// Schedule`, `AWS::Events::Rule`) or an EventBridge Scheduler schedule (`ScheduleV2`,
/// `AWS::Scheduler::Schedule`). Validated by the template loader.
public struct ScheduleDefinition: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// An EventBridge rule: UTC, its Scheduled Event comes from `aws.events`.
        case rule
        /// An EventBridge Scheduler schedule: a time zone, `at()`, and `aws.scheduler` envelopes.
        case scheduler
    }

    public var logicalID: String
    /// The rule's or schedule's name (part of its ARN).
    public var name: String
    public var kind: Kind
    /// The expression as written (`rate(5 minutes)`).
    public var expressionText: String
    public var expression: ScheduleExpression
    public var timeZone: TimeZone
    public var functionName: String
    /// `Input`: delivered verbatim instead of the Scheduled Event.
    public var input: String?
    public var enabled: Bool

    public init(
        logicalID: String, name: String, kind: Kind, expressionText: String, expression: ScheduleExpression,
        timeZone: TimeZone = .gmt, functionName: String, input: String? = nil, enabled: Bool = true
    ) {
        self.logicalID = logicalID
        self.name = name
        self.kind = kind
        self.expressionText = expressionText
        self.expression = expression
        self.timeZone = timeZone
        self.functionName = functionName
        self.input = input
        self.enabled = enabled
    }

    /// `arn:aws:events:R:A:rule/NAME` or `arn:aws:scheduler:R:A:schedule/default/NAME`.
    public func arn(in account: AccountContext) -> String {
        switch kind {
        case .rule: "arn:aws:events:\(account.region):\(account.accountID):rule/\(name)"
        case .scheduler: "arn:aws:scheduler:\(account.region):\(account.accountID):schedule/default/\(name)"
        }
    }

    /// What the function receives for the fire at `time` (spec 4.3): `Input` (Scheduler: with its
    /// context placeholders replaced), else the Scheduled Event envelope.
    public func payload(firedAt time: Date, id: String, account: AccountContext) -> String {
        let timeText = time.formatted(Date.ISO8601FormatStyle())
        if let input {
            guard kind == .scheduler else { return input }
            return input.replacingOccurrences(of: "<aws.scheduler.schedule-arn>", with: arn(in: account))
                .replacingOccurrences(of: "<aws.scheduler.scheduled-time>", with: timeText)
                .replacingOccurrences(of: "<aws.scheduler.execution-id>", with: id)
                .replacingOccurrences(of: "<aws.scheduler.attempt-number>", with: "1")
        }
        let source = kind == .rule ? "aws.events" : "aws.scheduler"
        let detail = kind == .rule ? "{}" : "\"{}\""
        return "{\"version\":\"0\",\"id\":\(JSONText.quote(id)),\"detail-type\":\"Scheduled Event\","
            + "\"source\":\"\(source)\",\"account\":\(JSONText.quote(account.accountID)),"
            + "\"time\":\(JSONText.quote(timeText)),\"region\":\(JSONText.quote(account.region)),"
            + "\"resources\":[\(JSONText.quote(arn(in: account)))],\"detail\":\(detail)}"
    }
}
