import Foundation
import Testing

@testable import FunctionHostCore

/// A template written to a fresh temporary directory that also holds code directories.
struct TemplateFixture {
    let directory: URL

    init(codeDirectories: [String] = ["src"]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fnhost-template-\(UUID().uuidString)")
        for name in codeDirectories {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent(name), withIntermediateDirectories: true)
        }
    }

    func load(_ yaml: String, parameters: [String: String] = [:]) throws(TemplateError) -> TemplateLoader.Result {
        let path = directory.appendingPathComponent("template.yaml").path
        try? yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try TemplateLoader(parameterOverrides: parameters).load(path: path)
    }

    /// Loads a template whose last resource is the function `Fn` (`provided.al2023`, code in `src`)
    /// and returns `Fn`: `properties` are extra property lines, already indented under `Properties`;
    /// `resources` are resource definitions placed before `Fn`.
    func function(_ properties: String, after resources: String = "") throws -> FunctionConfiguration {
        let result = try load(
            """
            Resources:
            \(resources)
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src
                  Handler: a.b
                  Runtime: provided.al2023
            \(properties)
            """)
        return try #require(result.functions.last)
    }

    func loadError(_ yaml: String) -> TemplateError? {
        do {
            _ = try load(yaml)
            return nil
        } catch {
            return error
        }
    }
}

@Suite struct TemplateLoaderTests {
    @Test func loadsAFunctionWithDefaults() throws {
        let fixture = try TemplateFixture()
        let result = try fixture.load(
            """
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Hello:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src
                  Handler: app.handler
                  Runtime: python3.12
            """)
        let function = try #require(result.functions.first)
        #expect(function.functionName == "Hello")
        #expect(function.runtime == .python(minor: 12))
        #expect(function.memorySize == 128)
        #expect(function.timeout == 3)
        #expect(function.codeDirectory == fixture.directory.appendingPathComponent("src").standardizedFileURL.path)
    }

    @Test func mergesGlobalsAsSAMDoes() throws {
        let fixture = try TemplateFixture()
        let result = try fixture.load(
            """
            Globals:
              Function:
                Runtime: nodejs20.x
                Timeout: 30
                Environment:
                  Variables:
                    SHARED: global
                    OVERRIDDEN: global
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src
                  Handler: index.handler
                  Timeout: 5
                  Environment:
                    Variables:
                      OVERRIDDEN: local
                      OWN: mine
            """)
        let function = try #require(result.functions.first)
        #expect(function.runtime == .nodejs(major: 20))
        #expect(function.timeout == 5)
        #expect(function.environment == ["SHARED": "global", "OVERRIDDEN": "local", "OWN": "mine"])
    }

    @Test func resolvesIntrinsicsInShortAndLongForm() throws {
        let fixture = try TemplateFixture()
        let result = try fixture.load(
            """
            Parameters:
              Stage:
                Type: String
                Default: dev
            Resources:
              Target:
                Type: AWS::Serverless::Function
                Properties: {CodeUri: src, Handler: a.b, Runtime: python3.11, FunctionName: target-fn}
              Caller:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src
                  Handler: a.b
                  Runtime: python3.11
                  Description: !Sub "${Stage} in ${AWS::Region}"
                  Environment:
                    Variables:
                      STAGE: !Ref Stage
                      STAGE_LONG: {Ref: Stage}
                      TARGET_NAME: !Ref Target
                      TARGET_ARN: !GetAtt Target.Arn
                      TARGET_ARN_LONG: {"Fn::GetAtt": [Target, Arn]}
                      JOINED: !Join [",", [a, !Ref Stage, c]]
                      JOINED_LONG: {"Fn::Join": ["-", [x, y]]}
                      SUB_VARS: !Sub ["${A}-${B}", {A: one, B: !Ref Stage}]
                      LITERAL: !Sub "${!NotResolved}"
            """, parameters: ["Stage": "prod"])
        let caller = try #require(result.functions.first { $0.logicalID == "Caller" })
        #expect(caller.description == "prod in us-east-1")
        #expect(
            caller.environment == [
                "STAGE": "prod", "STAGE_LONG": "prod", "TARGET_NAME": "target-fn",
                "TARGET_ARN": "arn:aws:lambda:us-east-1:123456789012:function:target-fn",
                "TARGET_ARN_LONG": "arn:aws:lambda:us-east-1:123456789012:function:target-fn",
                "JOINED": "a,prod,c", "JOINED_LONG": "x-y", "SUB_VARS": "one-prod", "LITERAL": "${NotResolved}",
            ])
    }

    @Test func acceptsLaterFeaturesAndSkipsUnknownResourceTypes() throws {
        let fixture = try TemplateFixture()
        let result = try fixture.load(
            """
            Resources:
              Table:
                Type: AWS::DynamoDB::Table
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src
                  Handler: a.b
                  Runtime: provided.al2023
                  ReservedConcurrentExecutions: 2
                  Tracing: Active
                  Events:
                    S: {Type: SNS, Properties: {Topic: "arn:aws:sns:us-east-1:123456789012:t"}}
            """)
        #expect(result.functions.map(\.logicalID) == ["Fn"])
        #expect(result.functions[0].deferredProperties == ["Events", "Tracing"])
        #expect(result.functions[0].reservedConcurrency == 2)
        // One for the table resource, one for the SNS event.
        #expect(result.warnings.count == 2, "\(result.warnings)")
        #expect(result.warnings.first?.contains("Table") == true)
        #expect(result.warnings.first?.contains("AWS::DynamoDB::Table") == true)
        #expect(result.warnings.last?.contains("event S of type SNS is not simulated") == true)
    }

    @Test(arguments: [
        ("Timeout: 0", "Timeout", "between 1 and 900"),
        ("Timeout: 901", "Timeout", "between 1 and 900"),
        ("MemorySize: 64", "MemorySize", "between 128 and 10240"),
        ("MemorySize: lots", "MemorySize", "must be an integer"),
        ("CodeUri: missing-dir", "CodeUri", "is not a directory"),
        ("Handler: ''", "Handler", "is missing"),
    ])
    func rejectsInvalidPropertiesNamingFileResourceAndProperty(
        override: String, property: String, message: String
    ) throws {
        let fixture = try TemplateFixture()
        let key = String(override.prefix { $0 != ":" })
        var properties = ["CodeUri: src", "Handler: app.handler", "Runtime: python3.12"].filter { !$0.hasPrefix(key) }
        properties.append(override)
        let yaml = "Resources:\n  Broken:\n    Type: AWS::Serverless::Function\n    Properties:\n"
            + properties.map { "      \($0)\n" }.joined()
        let error = try #require(fixture.loadError(yaml))
        #expect(error.file.hasSuffix("template.yaml"))
        #expect(error.resource == "Broken")
        #expect(error.property == property)
        #expect(error.description.contains(message), "\(error)")
    }

    @Test func rejectsAMissingHandler() throws {
        let fixture = try TemplateFixture()
        let error = try #require(
            fixture.loadError(
                "Resources:\n  NoHandler:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: src, Runtime: python3.12}\n"
            ))
        #expect(error.resource == "NoHandler")
        #expect(error.property == "Handler")
    }

    @Test func rejectsYAMLThatDoesNotParse() throws {
        let fixture = try TemplateFixture()
        let error = try #require(fixture.loadError("Resources:\n  Fn: [unclosed\n"))
        #expect(error.description.contains("YAML does not parse"))
        #expect(error.file.hasSuffix("template.yaml"))
    }

    @Test func rejectsARefToNothing() throws {
        let fixture = try TemplateFixture()
        let error = try #require(
            fixture.loadError(
                """
                Resources:
                  Fn:
                    Type: AWS::Serverless::Function
                    Properties:
                      CodeUri: src
                      Handler: a.b
                      Runtime: python3.12
                      Environment: {Variables: {X: !Ref Nowhere}}
                """))
        #expect(error.resource == "Fn")
        #expect(error.property == "Environment")
        #expect(error.message.contains("Nowhere"))
    }

    @Test func reportsAnUnreadableFile() {
        #expect(throws: TemplateError.self) { try TemplateLoader().load(path: "/nonexistent/template.yaml") }
    }
}
