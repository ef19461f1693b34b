extension IntrinsicResolver {
    /// Evaluates the template's `Conditions` (`Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` and
    /// `Condition` references) into ``conditions``; parameters and mappings must already be set.
    ///
    /// Throws a ``Failure`` naming the condition that is undefined, malformed or refers to itself.
    mutating func evaluateConditions(_ definitions: [(String, TemplateValue)]) throws(Failure) {
        var evaluator = ConditionEvaluation(resolver: self, definitions: definitions)
        for (name, _) in definitions { _ = try evaluator.condition(name, visiting: []) }
        conditions = evaluator.results
    }
}
