import ArgumentParser
import FunctionHost
import FunctionHostCore

/// Options shared by the commands that load a template.
struct TemplateOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The SAM template to load.")
    var template: String = "template.yaml"

    @Option(name: .customLong("parameter"), help: ArgumentHelp("Override a template parameter.", valueName: "KEY=VALUE"))
    var parameters: [String] = []

    @Option(help: "The account id used in ARNs.")
    var account: String = "123456789012"

    @Option(help: "The region used in ARNs and AWS_REGION.")
    var region: String = "us-east-1"

    @Option(help: "Directory for logs and state.")
    var stateDir: String = ".fnhost"

    var accountContext: AccountContext { AccountContext(accountID: account, region: region) }

    var parameterOverrides: [String: String] {
        get throws {
            var overrides: [String: String] = [:]
            for parameter in parameters {
                guard let equals = parameter.firstIndex(of: "=") else {
                    throw ValidationError("--parameter takes KEY=VALUE, got \(parameter)")
                }
                overrides[String(parameter[..<equals])] = String(parameter[parameter.index(after: equals)...])
            }
            return overrides
        }
    }

    func hostConfiguration(host: String = "127.0.0.1", port: Int = 3001, console: Int32) throws -> HostConfiguration {
        HostConfiguration(
            templatePath: template, host: host, port: port, stateDirectory: stateDir, account: accountContext,
            parameterOverrides: try parameterOverrides, consoleDescriptor: console)
    }
}
