import FunctionHostCore
import Testing

/// `ReservedConcurrentExecutions` and `ProvisionedConcurrencyConfig` in templates.
@Suite struct TemplateLoaderConcurrencyTests {
    private func function(_ properties: String) throws -> FunctionConfiguration {
        try TemplateFixture().function(properties)
    }

    @Test func readsReservedAndProvisionedConcurrency() throws {
        let plain = try function("")
        #expect(plain.reservedConcurrency == nil)
        #expect(plain.provisionedConcurrency == nil)
        let configured = try function(
            """
                  ReservedConcurrentExecutions: 0
            """)
        #expect(configured.reservedConcurrency == 0)
        let provisioned = try function(
            """
                  AutoPublishAlias: prod
                  ProvisionedConcurrencyConfig:
                    ProvisionedConcurrentExecutions: 3
            """)
        #expect(provisioned.provisionedConcurrency?.count == 3)
        #expect(provisioned.provisionedConcurrency?.qualifier == "prod")
        #expect(try function("      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}")
            .provisionedConcurrency?.qualifier == "live")
    }

    @Test func rejectsImpossibleValuesNamingTheProperty() throws {
        for (properties, property) in [
            ("      ReservedConcurrentExecutions: -1", "ReservedConcurrentExecutions"),
            ("      ReservedConcurrentExecutions: many", "ReservedConcurrentExecutions"),
            ("      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 0}", "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions"),
            ("      ProvisionedConcurrencyConfig: {}", "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions"),
            (
                "      ReservedConcurrentExecutions: 1\n      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 2}",
                "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions"
            ),
        ] {
            let error = #expect(throws: TemplateError.self) { try function(properties) }
            #expect(error?.property == property, "\(properties)")
        }
    }
}
