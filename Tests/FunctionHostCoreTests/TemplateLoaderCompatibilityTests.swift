import Foundation
import Testing

@testable import FunctionHostCore

/// Templates as `sam init`, `cdk synth` and hand-written CloudFormation leave them
/// (Tests/Fixtures/templates): they load as they are.
@Suite struct TemplateLoaderCompatibilityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/templates").standardizedFileURL.path

    /// A loader whose inline code goes to a fresh state directory.
    func loader(parameters: [String: String] = [:]) -> TemplateLoader {
        var loader = TemplateLoader(parameterOverrides: parameters)
        loader.stateDirectory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("fnhost-state-\(UUID().uuidString)").path
        return loader
    }

    func load(_ path: String, parameters: [String: String] = [:]) throws -> TemplateLoader.Result {
        try loader(parameters: parameters).load(path: Self.fixtures + "/" + path)
    }

    @Test func cdkOutputLoadsWithAssetDirectoriesAndNoAssetParameters() throws {
        let loader = loader()
        let result = try loader.load(path: Self.fixtures + "/cdk/FnhostCdkStack.template.json")
        #expect(result.functions.map(\.logicalID) == ["HelloHandler2E4FBA4D", "InlineHandlerB3C5D1F2"])
        let hello = result.functions[0]
        #expect(hello.codeDirectory == Self.fixtures + "/cdk/asset.5f4e8d1c9b2a")
        #expect(hello.layers == [Self.fixtures + "/cdk/asset.layer7a6b5c"])
        #expect(hello.memorySize == 256)
        #expect(hello.timeout == 10)
        #expect(hello.environment["GREETING"] == "hello from local in us-east-1")
        #expect(hello.deferredProperties == ["Role"])
        // AWS::CDK::Metadata and the IAM role go silently; nothing else was skipped.
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(result.skipped.isEmpty)

        let inline = result.functions[1]
        let written = try String(contentsOfFile: inline.codeDirectory + "/index.py", encoding: .utf8)
        #expect(written.contains("'inline': True"))
        #expect(inline.codeDirectory.hasPrefix(loader.stateDirectory))
        #expect(inline.handler == "index.handler")
    }

    @Test func inlineCodeIsWrittenOnceAndRewrittenOnlyWhenItChanges() throws {
        let loader = loader()
        let template = Self.fixtures + "/cdk/FnhostCdkStack.template.json"
        let first = try loader.load(path: template).functions[1].codeDirectory + "/index.py"
        let stamp = try FileManager.default.attributesOfItem(atPath: first)[.modificationDate] as? Date
        let again = try loader.load(path: template).functions[1].codeDirectory + "/index.py"
        #expect(again == first)
        #expect(try FileManager.default.attributesOfItem(atPath: again)[.modificationDate] as? Date == stamp)
    }

    @Test func nestedApplicationsLoadWithParametersAndOutputs() throws {
        let result = try load("nested/template.yaml", parameters: ["Stage": "prod"])
        #expect(
            result.functions.map(\.logicalID) == [
                "HelloWorldFunction", "OrdersApp/OrdersFunction", "OrdersApp/NamedOrdersFunction",
            ])
        let hello = result.functions[0]
        #expect(hello.environment["ORDERS_FUNCTION"] == "OrdersApp/OrdersFunction")
        #expect(hello.environment["ORDERS_TABLE"] == "orders-prod")
        let orders = result.functions[1]
        #expect(orders.functionName == "OrdersApp/OrdersFunction")
        #expect(orders.codeDirectory == Self.fixtures + "/nested/orders/src")
        #expect(orders.environment == ["STAGE": "prod", "TABLE_NAME": "orders-prod", "STACK": "local-OrdersApp"])
        #expect(result.functions[2].functionName == "named-orders-prod")
        #expect(
            result.templateFiles == [
                Self.fixtures + "/nested/template.yaml", Self.fixtures + "/nested/orders/template.yaml",
            ])

        let catalog = FunctionCatalog(result.functions)
        #expect(catalog.entry(named: "OrdersApp/OrdersFunction")?.configuration.codeDirectory == orders.codeDirectory)
        #expect(catalog.entry(named: "named-orders-prod")?.configuration.logicalID == "OrdersApp/NamedOrdersFunction")
    }

    @Test func aChildParameterWithoutValueNamesTheChildFileResourceAndProperty() throws {
        let fixture = try TemplateFixture(codeDirectories: ["src"])
        try FileManager.default.createDirectory(
            at: fixture.directory.appendingPathComponent("child"), withIntermediateDirectories: true)
        try """
        Parameters:
          Needed: {Type: String}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: ../src, Handler: a.b, Runtime: provided.al2023, Description: !Ref Needed}
        """.write(
            to: fixture.directory.appendingPathComponent("child/template.yaml"), atomically: true, encoding: .utf8)
        let error = try #require(
            fixture.loadError(
                """
                Resources:
                  Child:
                    Type: AWS::CloudFormation::Stack
                    Properties: {TemplateURL: child/template.yaml}
                """))
        #expect(error.file.hasSuffix("child/template.yaml"))
        #expect(error.resource == "Fn")
        #expect(error.property == "Description")
        #expect(error.message.contains("parameter Needed has no Default"))
    }

    @Test func aTemplateThatNestsItselfStopsWithAnError() throws {
        let fixture = try TemplateFixture()
        let error = try #require(
            fixture.loadError(
                """
                Resources:
                  Again:
                    Type: AWS::Serverless::Application
                    Properties: {Location: template.yaml}
                """))
        #expect(error.resource == "Again")
        #expect(error.message.contains("nest more than"))
    }

    @Test func remoteApplicationsAreSkippedWithAWarning() throws {
        let fixture = try TemplateFixture()
        let result = try fixture.load(
            """
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties: {CodeUri: src, Handler: a.b, Runtime: provided.al2023}
              Repo:
                Type: AWS::Serverless::Application
                Properties:
                  Location: {ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/x, SemanticVersion: 1.0.0}
              Remote:
                Type: AWS::CloudFormation::Stack
                Properties: {TemplateURL: https://s3.amazonaws.com/bucket/child.yaml}
            """)
        #expect(result.functions.map(\.logicalID) == ["Fn"])
        #expect(result.warnings.count == 2)
        #expect(result.warnings.contains { $0.contains("Repo") && $0.contains("Serverless Application Repository") })
        #expect(result.warnings.contains { $0.contains("Remote") && $0.contains("not a local template") })
    }

    @Test(arguments: [("dev", false), ("prod", true)])
    func mappingsAndConditionsDecideValuesAndWhichResourcesExist(stage: String, prod: Bool) throws {
        let result = try load("conditions/template.yaml", parameters: ["Environment": stage])
        #expect(result.functions.map(\.logicalID) == ["ApiFunction", prod ? "ProdOnlyFunction" : "DevOnlyFunction"])
        let api = result.functions[0]
        #expect(api.memorySize == (prod ? 1024 : 128))
        #expect(api.timeout == (prod ? 30 : 10))
        let environment = api.environment
        #expect(environment["LOG_LEVEL"] == (prod ? "WARN" : "DEBUG"))
        #expect(environment["DEBUG_ONLY"] == (prod ? nil : "yes"))
        #expect(environment["TRACING"] == (prod ? "on" : "off"))
        #expect(environment["BUCKET"] == "assets-use1")
        #expect(environment["ENCODED"] == "aGVsbG8=")
        #expect(environment["STACK"] == "local")
        #expect(
            environment["STACK_ID"]?.hasPrefix("arn:aws:cloudformation:us-east-1:123456789012:stack/local/") == true)
        #expect(environment["PARTITION"] == "aws")
        #expect(environment["URL_SUFFIX"] == "amazonaws.com")
        #expect(environment["ACCOUNT"] == "123456789012")
        #expect(environment["REGION"] == "us-east-1")
        #expect(environment["SHARED_TABLE"] == "shared-orders-table")
        #expect(environment["FIRST_AZ"] == "us-east-1a")
        #expect(result.warnings.filter { $0.contains("placeholder") }.count == 2, "\(result.warnings)")
    }

    @Test func stackNameAndRegionComeFromTheLoader() throws {
        var loader = loader(parameters: ["EnableTracing": "true", "Environment": "prod"])
        loader.stackName = "orders-stack"
        loader.account = AccountContext(accountID: "210987654321", region: "eu-west-1")
        let result = try loader.load(path: Self.fixtures + "/conditions/template.yaml")
        #expect(result.functions.map(\.logicalID) == ["ApiFunction", "ProdOnlyFunction", "ProdTracingFunction"])
        #expect(result.functions[0].environment["STACK"] == "orders-stack")
        #expect(result.functions[0].environment["BUCKET"] == "assets-euw1")
        #expect(result.functions[0].environment["FIRST_AZ"] == "eu-west-1a")
    }

    @Test func conditionsThatAreUndefinedOrCyclicAreTemplateErrors() throws {
        let fixture = try TemplateFixture()
        let cyclic = try #require(
            fixture.loadError(
                """
                Conditions:
                  A: !Condition B
                  B: !Not [!Condition A]
                Resources:
                  Fn: {Type: AWS::Serverless::Function, Properties: {CodeUri: src, Handler: a.b, Runtime: provided.al2023}}
                """))
        #expect(cyclic.resource == "Conditions")
        #expect(cyclic.message.contains("depends on itself"))
        let undefined = try #require(
            fixture.loadError(
                """
                Resources:
                  Fn:
                    Type: AWS::Serverless::Function
                    Condition: Missing
                    Properties: {CodeUri: src, Handler: a.b, Runtime: provided.al2023}
                """))
        #expect(undefined.resource == "Fn")
        #expect(undefined.property == "Condition")
    }

    @Test func unrunnableFunctionsAreSkippedAndTheOthersLoad() throws {
        let loader = loader()
        let result = try loader.load(path: Self.fixtures + "/mixed/template.yaml")
        #expect(
            result.functions.map(\.logicalID) == [
                "PythonFunction", "InlineNodeFunction", "PublishedLayerFunction", "PlainLambdaFunction",
            ])
        #expect(
            result.skipped.map(\.name) == ["ImageFunction", "JavaFunction", "RubyFunction", "DuplicateNameFunction"])
        #expect(result.skipped[0].reason.contains("PackageType Image"))
        #expect(result.skipped[1].reason.contains("runtime java21 is not supported"))
        #expect(result.skipped[2].reason.contains("runtime ruby3.3 is not supported"))
        #expect(result.skipped[3].reason.contains("orders-handler is already the name of PythonFunction"))
        for skipped in result.skipped {
            #expect(result.warnings.filter { $0.contains("skipping function \(skipped.name):") }.count == 1)
        }

        let inline = result.functions[1]
        #expect(
            try String(contentsOfFile: inline.codeDirectory + "/index.js", encoding: .utf8).contains("inline: 'node'"))

        let layered = result.functions[2]
        #expect(layered.layers.isEmpty)
        #expect(
            layered.publishedLayers == [
                "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"
            ])
        #expect(
            result.warnings.contains {
                $0.contains("PublishedLayerFunction") && $0.contains(layered.publishedLayers[0])
            })

        let plain = result.functions[3]
        #expect(plain.memorySize == 512)
        #expect(plain.timeout == 20)
        #expect(plain.deadLetterQueueARN == "arn:aws:sqs:us-east-1:123456789012:dead-letters")
        #expect(plain.deferredProperties == ["Role", "TracingConfig"])

        // Accepted for later parsers, without a "not simulated" warning; the event-source mapping is read.
        #expect(
            result.deferredResources.map(\.type) == [
                "AWS::Lambda::Version", "AWS::Lambda::Alias", "AWS::Lambda::EventInvokeConfig",
            ])
        let mapping = try #require(result.eventSourceMappings.first)
        #expect(mapping.functionName == "orders-handler")
        #expect(mapping.source.arn == "arn:aws:sqs:us-east-1:123456789012:OrdersQueue")
        #expect(mapping.batchSize == 5)
        #expect(result.deferredResources[1].properties["FunctionVersion"]?.string == "PlainLambdaVersion.Version")
        #expect(!result.warnings.contains { $0.contains("not simulated") }, "\(result.warnings)")
    }

    @Test func lambdaFunctionErrorsNameTheCloudFormationProperty() throws {
        let fixture = try TemplateFixture()
        let missing = try #require(
            fixture.loadError(
                """
                Resources:
                  Fn:
                    Type: AWS::Lambda::Function
                    Properties: {Code: nowhere, Handler: a.b, Runtime: python3.12}
                """))
        #expect(missing.property == "Code")
        #expect(missing.message.contains("is not a directory"))
        let dlq = try #require(
            fixture.loadError(
                """
                Resources:
                  Fn:
                    Type: AWS::Lambda::Function
                    Properties: {Code: src, Handler: a.b, Runtime: python3.12, DeadLetterConfig: {TargetArn: arn:aws:sns:us-east-1:123456789012:t}}
                """))
        #expect(dlq.property == "DeadLetterConfig.TargetArn")
        let s3 = try fixture.load(
            """
            Resources:
              Fn:
                Type: AWS::Lambda::Function
                Properties: {Code: {S3Bucket: b, S3Key: k.zip}, Handler: a.b, Runtime: python3.12}
            """)
        #expect(s3.skipped.first?.reason.contains("S3") == true)
    }

    @Test func aMissingParameterIsAnErrorOnlyWhereItIsUsed() throws {
        let fixture = try TemplateFixture()
        let unused = try fixture.load(
            """
            Parameters:
              Unused: {Type: String}
            Resources:
              Fn: {Type: AWS::Serverless::Function, Properties: {CodeUri: src, Handler: a.b, Runtime: provided.al2023}}
            """)
        #expect(unused.functions.count == 1)
    }

    @Test func environmentFilesOverrideDeclaredVariablesAsSAMDoes() throws {
        let fixture = try TemplateFixture()
        let file = fixture.directory.appendingPathComponent("env.json")
        try
            #"{"Parameters": {"SHARED": "everyone", "UNDECLARED": "x"}, "Fn": {"OWN": 8080, "SHARED": "mine", "FLAG": true}}"#
            .write(to: file, atomically: true, encoding: .utf8)
        var loader = TemplateLoader()
        loader.environmentOverrides = try EnvironmentOverrides.load(path: file.path)
        try """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src
              Handler: a.b
              Runtime: provided.al2023
              Environment: {Variables: {SHARED: t, OWN: t, FLAG: t, KEPT: t}}
          Other:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src
              Handler: a.b
              Runtime: provided.al2023
              Environment: {Variables: {SHARED: t}}
        """.write(to: fixture.directory.appendingPathComponent("template.yaml"), atomically: true, encoding: .utf8)
        let result = try loader.load(path: fixture.directory.appendingPathComponent("template.yaml").path)
        #expect(result.functions[0].environment == ["SHARED": "mine", "OWN": "8080", "FLAG": "true", "KEPT": "t"])
        #expect(result.functions[1].environment == ["SHARED": "everyone"])

        try #"{"Fn": ["not", "an", "object"]}"#.write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: TemplateError.self) { try EnvironmentOverrides.load(path: file.path) }
    }

    @Test func environmentFileValuesCountTowardsTheFourKilobyteLimit() throws {
        let fixture = try TemplateFixture()
        let file = fixture.directory.appendingPathComponent("env.json")
        try "{\"Fn\": {\"BIG\": \"\(String(repeating: "x", count: 5000))\"}}".write(to: file, atomically: true, encoding: .utf8)
        var loader = TemplateLoader()
        loader.environmentOverrides = try EnvironmentOverrides.load(path: file.path)
        try """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: src, Handler: a.b, Runtime: provided.al2023, Environment: {Variables: {BIG: small}}}
        """.write(to: fixture.directory.appendingPathComponent("template.yaml"), atomically: true, encoding: .utf8)
        #expect {
            try loader.load(path: fixture.directory.appendingPathComponent("template.yaml").path)
        } throws: { error in
            guard let error = error as? TemplateError else { return false }
            return error.resource == "Fn" && error.property == "Environment.Variables" && error.message.contains("--env-vars")
        }
    }

    @Test func parameterOverridesParseAsSAMSpellsThem() throws {
        #expect(
            try ParameterOverrides.parse(
                sam: #"Stage=prod Name="two words" ParameterKey=Table,ParameterValue=t1 Empty="#)
                == ["Stage": "prod", "Name": "two words", "Table": "t1", "Empty": ""])
        #expect(try ParameterOverrides.parse(sam: "  A=1\tB='x=y' ") == ["A": "1", "B": "x=y"])
        #expect(throws: ParameterOverrides.Malformed.self) { try ParameterOverrides.parse(sam: "novalue") }
        #expect(throws: ParameterOverrides.Malformed.self) { try ParameterOverrides.parse(sam: "=v") }
    }
}

extension TemplateLoaderCompatibilityTests {
    @Test func attributesOfResourcesFnhostDoesNotSimulateGetPlaceholders() throws {
        let fixture = try TemplateFixture()
        let result = try fixture.load(
            """
            Resources:
              Table:
                Type: AWS::DynamoDB::Table
              Role:
                Type: AWS::IAM::Role
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src
                  Handler: a.b
                  Runtime: provided.al2023
                  Role: !GetAtt Role.Arn
                  Environment:
                    Variables:
                      TABLE_ARN: !GetAtt Table.Arn
                      STREAM: !GetAtt [Table, StreamArn]
                      TABLE_NAME: !Ref Table
                      SUB: !Sub "${Table.Arn}/index/*"
            """)
        let environment = try #require(result.functions.first).environment
        #expect(environment["TABLE_ARN"] == "arn:aws:dynamodb:us-east-1:123456789012:Table")
        #expect(environment["STREAM"] == "arn:aws:dynamodb:us-east-1:123456789012:Table")
        #expect(environment["TABLE_NAME"] == "Table")
        #expect(environment["SUB"] == "arn:aws:dynamodb:us-east-1:123456789012:Table/index/*")
        // One warning for the table (the IAM role is silent), besides the skipped Table resource itself.
        #expect(result.warnings.filter { $0.contains("Fn::GetAtt of Table (AWS::DynamoDB::Table)") }.count == 1)
        #expect(!result.warnings.contains { $0.contains("Fn::GetAtt of Role") })
        let unknown = fixture.loadError(
            """
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties: {CodeUri: src, Handler: a.b, Runtime: provided.al2023, Description: !GetAtt Nowhere.Arn}
            """)
        #expect(unknown?.message.contains("unknown resource Nowhere") == true)
    }
}

extension TemplateLoaderCompatibilityTests {
    @Test func aDeferredResourceThatDoesNotResolveKeepsItsPropertiesAsWritten() throws {
        let fixture = try TemplateFixture()
        let result = try fixture.load(
            """
            Resources:
              Fn: {Type: AWS::Serverless::Function, Properties: {CodeUri: src, Handler: a.b, Runtime: provided.al2023}}
              Alias:
                Type: AWS::Lambda::Alias
                Properties: {FunctionName: !Ref Fn, FunctionVersion: !Ref Elsewhere, Name: live}
            """)
        let alias = try #require(result.deferredResources.first)
        #expect(alias.logicalID == "Alias")
        #expect(alias.resolutionFailure?.contains("Elsewhere") == true)
        #expect(alias.properties["FunctionVersion"] == .map([("Ref", .string("Elsewhere"))]))
        #expect(result.functions.count == 1)
    }
}

extension TemplateLoaderCompatibilityTests {
    @Test func samInitsHelloWorldLoadsWithOnlyTheApiEventNamed() throws {
        let result = try load("sam-init/template.yaml")
        #expect(result.functions.map(\.logicalID) == ["HelloWorldFunction"])
        #expect(result.functions[0].deferredProperties == ["Architectures", "Events", "LoggingConfig"])
        // API Gateway events are not simulated yet: said once, nothing else is.
        #expect(result.warnings.count == 1, "\(result.warnings)")
        #expect(result.warnings.first?.contains("event HelloWorld of type Api is not simulated") == true)
    }
}
