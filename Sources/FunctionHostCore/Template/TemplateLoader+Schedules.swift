import Foundation

extension TemplateLoader {
    static let ruleType = "AWS::Events::Rule"
    static let schedulerType = "AWS::Scheduler::Schedule"
    /// Function event types that become schedules.
    static let scheduleEventTypes: Set<String> = ["Schedule", "ScheduleV2"]

    /// The template's schedules targeting its functions: `Events` of `Type: Schedule` /
    /// `ScheduleV2`, and `AWS::Events::Rule` / `AWS::Scheduler::Schedule` resources.
    /// `FlexibleTimeWindow`, `RetryPolicy`, `DeadLetterConfig`, `StartDate` and `EndDate` are
    /// accepted and not simulated (noted as warnings).
    func loadSchedules(
        _ resources: [(String, TemplateValue)], functions: [FunctionConfiguration], resolver: IntrinsicResolver,
        file: String, warnings: inout [String]
    ) throws(TemplateError) -> [ScheduleDefinition] {
        var schedules: [ScheduleDefinition] = []
        for (logicalID, resource) in resources {
            switch resource["Type"]?.string {
            case let type? where Self.functionTypes.contains(type):
                guard let function = functions.first(where: { $0.logicalID == logicalID }) else { continue }
                for (eventName, event) in resource["Properties"]?["Events"]?.entries ?? [] {
                    guard let type = event["Type"]?.string, Self.scheduleEventTypes.contains(type) else { continue }
                    let prefix = "Events.\(eventName).Properties."
                    let properties = try resolved(
                        event["Properties"] ?? .map([]), logicalID: logicalID, prefix: prefix, resolver: resolver, file: file)
                    let kind: ScheduleDefinition.Kind = type == "Schedule" ? .rule : .scheduler
                    schedules.append(
                        try schedule(
                            logicalID: logicalID, prefix: prefix, kind: kind, properties: properties,
                            defaultName: logicalID + eventName, function: function, file: file, warnings: &warnings))
                }
            case Self.ruleType?:
                let properties = try resolved(
                    resource["Properties"] ?? .map([]), logicalID: logicalID, prefix: "", resolver: resolver, file: file)
                guard properties["ScheduleExpression"] != nil else {
                    warnings.append("\(file): skipping resource \(logicalID): only scheduled rules are simulated (no ScheduleExpression)")
                    continue
                }
                guard case .list(let targets)? = properties["Targets"] else {
                    throw TemplateError(file: file, resource: logicalID, property: "Targets", message: "must be a list of {Arn, Id}")
                }
                for (index, target) in targets.enumerated() {
                    guard let function = targetFunction(target["Arn"], functions: functions) else {
                        warnings.append(
                            "\(file): resource \(logicalID): target \(index) is not a function of this template; only function targets are simulated")
                        continue
                    }
                    var withInput = properties
                    withInput["Input"] = target["Input"]
                    schedules.append(
                        try schedule(
                            logicalID: logicalID, prefix: "", kind: .rule, properties: withInput, defaultName: logicalID,
                            function: function, file: file, warnings: &warnings))
                }
            case Self.schedulerType?:
                let properties = try resolved(
                    resource["Properties"] ?? .map([]), logicalID: logicalID, prefix: "", resolver: resolver, file: file)
                guard let function = targetFunction(properties["Target"]?["Arn"], functions: functions) else {
                    warnings.append(
                        "\(file): skipping resource \(logicalID): its Target is not a function of this template")
                    continue
                }
                var withInput = properties
                withInput["Input"] = properties["Target"]?["Input"]
                schedules.append(
                    try schedule(
                        logicalID: logicalID, prefix: "", kind: .scheduler, properties: withInput, defaultName: logicalID,
                        function: function, file: file, warnings: &warnings))
            default:
                continue
            }
        }
        return schedules
    }

    private func resolved(
        _ value: TemplateValue, logicalID: String, prefix: String, resolver: IntrinsicResolver, file: String
    ) throws(TemplateError) -> [String: TemplateValue] {
        guard let entries = value.entries else {
            throw TemplateError(file: file, resource: logicalID, property: String(prefix.dropLast()), message: "must be a mapping")
        }
        var properties: [String: TemplateValue] = [:]
        for (key, raw) in entries {
            do {
                properties[key] = try resolver.resolve(raw)
            } catch {
                throw TemplateError(file: file, resource: logicalID, property: prefix + key, message: error.message)
            }
        }
        return properties
    }

    private func targetFunction(_ arn: TemplateValue?, functions: [FunctionConfiguration]) -> FunctionConfiguration? {
        guard let text = arn?.string, let reference = FunctionReference(parsing: text) else { return nil }
        return functions.first { $0.functionName == reference.name }
    }

    private func schedule(
        logicalID: String, prefix: String, kind: ScheduleDefinition.Kind, properties: [String: TemplateValue],
        defaultName: String, function: FunctionConfiguration, file: String, warnings: inout [String]
    ) throws(TemplateError) -> ScheduleDefinition {
        func failure(_ property: String, _ message: String) -> TemplateError {
            TemplateError(file: file, resource: logicalID, property: prefix + property, message: message)
        }
        let expressionProperty = prefix.isEmpty || kind == .scheduler ? "ScheduleExpression" : "Schedule"
        guard let text = properties[expressionProperty]?.string, !text.isEmpty else {
            throw failure(expressionProperty, "is missing (rate(...) or cron(...))")
        }
        let expression: ScheduleExpression
        do {
            expression = try ScheduleExpression(parsing: text)
        } catch {
            throw failure(expressionProperty, "\(text) is invalid: \(error.rule)")
        }
        if kind == .rule, case .at = expression {
            throw failure(expressionProperty, "at() is only for EventBridge Scheduler (ScheduleV2 / AWS::Scheduler::Schedule)")
        }
        var timeZone = TimeZone.gmt
        if let zone = properties["ScheduleExpressionTimezone"] {
            guard kind == .scheduler else {
                throw failure("ScheduleExpressionTimezone", "rules run in UTC; use ScheduleV2 for a time zone")
            }
            guard let name = zone.string, let parsed = TimeZone(identifier: name) else {
                throw failure("ScheduleExpressionTimezone", "\(zone.string ?? "a non-string") is not an IANA time zone")
            }
            timeZone = parsed
        }
        var enabled = true
        if let raw = properties["Enabled"] {
            switch raw.string?.lowercased() {
            case "true": enabled = true
            case "false": enabled = false
            default: throw failure("Enabled", "must be true or false")
            }
        }
        if let raw = properties["State"] {
            switch raw.string {
            case "ENABLED": enabled = true
            case "DISABLED": enabled = false
            default: throw failure("State", "must be ENABLED or DISABLED")
            }
        }
        var input: String?
        if let raw = properties["Input"] {
            guard let text = raw.string, JSONValue(parsing: text) != nil else {
                throw failure("Input", "must be JSON text")
            }
            input = text
        }
        for ignored in ["FlexibleTimeWindow", "RetryPolicy", "DeadLetterConfig", "StartDate", "EndDate"]
        where properties[ignored] != nil {
            warnings.append("\(file): resource \(logicalID): \(prefix)\(ignored) is accepted but not simulated")
        }
        let name = properties["Name"]?.string ?? properties["RuleName"]?.string ?? defaultName
        return ScheduleDefinition(
            logicalID: logicalID, name: name, kind: kind, expressionText: text, expression: expression,
            timeZone: timeZone, functionName: function.functionName, input: input, enabled: enabled)
    }
}
