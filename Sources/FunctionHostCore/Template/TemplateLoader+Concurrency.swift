extension TemplateLoader {
    /// Reads `AutoPublishAlias`, `ReservedConcurrentExecutions` (0 or more) and
    /// `ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions` (1 or more; it applies to
    /// the `AutoPublishAlias`, `live` when none is given).
    func loadConcurrency(
        into function: inout FunctionConfiguration, _ properties: [String: TemplateValue], _ unresolved: TemplateValue,
        failure: (String, String) -> TemplateError
    ) throws(TemplateError) {
        function.alias = unresolved["AutoPublishAlias"]?.string
        if let value = properties["ReservedConcurrentExecutions"] {
            guard let text = value.string, let count = Int(text), count >= 0 else {
                throw failure("ReservedConcurrentExecutions", "must be an integer of at least 0")
            }
            function.reservedConcurrency = count
        }
        if let config = properties["ProvisionedConcurrencyConfig"] {
            let property = "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions"
            guard let text = config["ProvisionedConcurrentExecutions"]?.string else { throw failure(property, "is missing") }
            guard let count = Int(text), count >= 1 else { throw failure(property, "must be an integer of at least 1") }
            if let reserved = function.reservedConcurrency, count > reserved {
                throw failure(property, "\(count) is more than the function's ReservedConcurrentExecutions (\(reserved))")
            }
            let alias = function.alias ?? "live"
            function.alias = alias
            function.provisionedConcurrency = (count, alias)
        }
    }
}
