import ArgumentParser
import Foundation
import FunctionHost
import FunctionHostCore

/// Options shared by the commands that load a template (`serve`, `invoke`, `list`, `validate`,
/// and any later command that runs the template's functions): the template, its parameters and
/// stack name, SAM's environment file, account, region and state directory.
struct TemplateOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The SAM, CloudFormation or CDK (cdk.out/*.template.json) template to load.")
    var template: String = "template.yaml"

    @Option(name: .customLong("parameter"), help: ArgumentHelp("Override a template parameter.", valueName: "KEY=VALUE"))
    var parameters: [String] = []

    @Option(
        help: ArgumentHelp(
            "Override template parameters as `sam` takes them: 'K=V K2=V2' (or ParameterKey=K,ParameterValue=V).",
            valueName: "OVERRIDES"))
    var parameterOverrides: [String] = []

    @Option(help: ArgumentHelp("Function environment values in SAM's format: {\"Function\": {\"VAR\": \"v\"}, \"Parameters\": {\"VAR\": \"v for all\"}}.", valueName: "FILE.json"))
    var envVars: String?

    @Option(help: "AWS::StackName of the template.")
    var stackName: String = "local"

    @Option(help: "The account id used in ARNs.")
    var account: String = "123456789012"

    @Option(help: "The region used in ARNs and AWS_REGION (default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1).")
    var region: String?

    @Option(help: "Directory for logs and state.")
    var stateDir: String = ".fnhost"

    /// `--region`, else the shell's `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`, as the AWS tools resolve it.
    var resolvedRegion: String {
        let environment = ProcessInfo.processInfo.environment
        return [region, environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]]
            .compactMap { $0 }.first { !$0.isEmpty } ?? "us-east-1"
    }

    var accountContext: AccountContext { AccountContext(accountID: account, region: resolvedRegion) }

    /// `--parameter-overrides` first, then each `--parameter` (which wins).
    var overrides: [String: String] {
        get throws {
            var overrides: [String: String] = [:]
            do {
                for text in parameterOverrides { overrides.merge(try ParameterOverrides.parse(sam: text)) { $1 } }
                for parameter in parameters {
                    let (key, value) = try ParameterOverrides.pair(parameter)
                    overrides[key] = value
                }
            } catch {
                throw ValidationError(error.description)
            }
            return overrides
        }
    }

    /// The template loader these options describe. Throws a ``TemplateError`` for a bad `--env-vars` file.
    func loader() throws -> TemplateLoader {
        var loader = TemplateLoader(account: accountContext, parameterOverrides: try overrides)
        loader.stackName = stackName
        loader.stateDirectory = stateDir
        if let envVars { loader.environmentOverrides = try EnvironmentOverrides.load(path: envVars) }
        return loader
    }

    func hostConfiguration(host: String = "127.0.0.1", port: Int = 3001, console: Int32) throws -> HostConfiguration {
        var configuration = HostConfiguration(
            templatePath: template, host: host, port: port, stateDirectory: stateDir, account: accountContext,
            parameterOverrides: try overrides, consoleDescriptor: console)
        configuration.stackName = stackName
        if let envVars { configuration.environmentOverrides = try EnvironmentOverrides.load(path: envVars) }
        return configuration
    }
}
