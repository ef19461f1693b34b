extension TemplateLoader {
    /// Destination types fnhost delivers to: an SQS queue (the embedded queue engine) or a function.
    static let destinationTypes = ["SQS", "Lambda"]

    /// Reads SAM's `EventInvokeConfig` (`MaximumRetryAttempts` 0–2, `MaximumEventAgeInSeconds`
    /// 60–21600, `DestinationConfig.OnSuccess/OnFailure {Type, Destination}`) and
    /// `DeadLetterQueue {Type: SQS, TargetArn}`; values are already resolved.
    func loadAsyncInvocation(
        into function: inout FunctionConfiguration, _ properties: [String: TemplateValue],
        failure: (String, String) -> TemplateError
    ) throws(TemplateError) {
        if let value = properties["EventInvokeConfig"] {
            guard value.entries != nil else { throw failure("EventInvokeConfig", "must be a mapping") }
            var config = EventInvokeConfig()
            for (key, _) in value.entries ?? [] where !["MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"].contains(key) {
                throw failure("EventInvokeConfig.\(key)", "is not an EventInvokeConfig property (MaximumRetryAttempts, MaximumEventAgeInSeconds, DestinationConfig)")
            }
            func integer(_ key: String, _ range: ClosedRange<Int>) throws(TemplateError) -> Int? {
                guard let raw = value[key] else { return nil }
                guard let text = raw.string, let number = Int(text), range.contains(number) else {
                    throw failure(
                        "EventInvokeConfig.\(key)",
                        "must be an integer from \(range.lowerBound) to \(range.upperBound), got \(raw.string ?? "a non-scalar")")
                }
                return number
            }
            config.maximumRetryAttempts = try integer("MaximumRetryAttempts", EventInvokeConfig.retryAttemptsRange)
            config.maximumEventAgeInSeconds = try integer("MaximumEventAgeInSeconds", EventInvokeConfig.eventAgeRange)
            if let destinations = value["DestinationConfig"] {
                guard destinations.entries != nil else {
                    throw failure("EventInvokeConfig.DestinationConfig", "must be a mapping with OnSuccess and/or OnFailure")
                }
                for (key, _) in destinations.entries ?? [] where key != "OnSuccess" && key != "OnFailure" {
                    throw failure("EventInvokeConfig.DestinationConfig.\(key)", "is not OnSuccess or OnFailure")
                }
                config.onSuccess = try destination(destinations["OnSuccess"], "EventInvokeConfig.DestinationConfig.OnSuccess", failure)
                config.onFailure = try destination(destinations["OnFailure"], "EventInvokeConfig.DestinationConfig.OnFailure", failure)
            }
            function.eventInvokeConfig = config
        }
        if let value = properties["DeadLetterQueue"] {
            guard let type = value["Type"]?.string else { throw failure("DeadLetterQueue.Type", "is missing") }
            guard type == "SQS" else {
                throw failure("DeadLetterQueue.Type", "\(type) is not simulated by fnhost; use SQS")
            }
            guard let arn = value["TargetArn"]?.string, !arn.isEmpty else {
                throw failure("DeadLetterQueue.TargetArn", "is missing (give the queue's ARN, e.g. !GetAtt Queue.Arn)")
            }
            guard arn.hasPrefix("arn:aws:sqs:") else {
                throw failure("DeadLetterQueue.TargetArn", "\(arn) is not an SQS queue ARN")
            }
            function.deadLetterQueueARN = arn
        }
    }

    private func destination(
        _ value: TemplateValue?, _ property: String, _ failure: (String, String) -> TemplateError
    ) throws(TemplateError) -> String? {
        guard let value else { return nil }
        guard let type = value["Type"]?.string else { throw failure("\(property).Type", "is missing (SQS or Lambda)") }
        guard Self.destinationTypes.contains(type) else {
            throw failure("\(property).Type", "\(type) is not simulated by fnhost; use SQS or Lambda")
        }
        guard let arn = value["Destination"]?.string, !arn.isEmpty else {
            throw failure("\(property).Destination", "is missing (give an ARN, e.g. !GetAtt Resource.Arn)")
        }
        let prefix = type == "SQS" ? "arn:aws:sqs:" : "arn:aws:lambda:"
        guard arn.hasPrefix(prefix) else {
            throw failure("\(property).Destination", "\(arn) is not an ARN of Type \(type) (\(prefix)...)")
        }
        return arn
    }
}
