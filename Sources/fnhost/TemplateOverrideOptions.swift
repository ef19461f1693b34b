import ArgumentParser
import FunctionHost
import FunctionHostCore

/// The flags SAM users bring to change what a template yields without editing it: parameter
/// values (`--parameter`, SAM's `--parameter-overrides`), SAM's `--env-vars` file and
/// `--stack-name`. An `@OptionGroup` of ``TemplateOptions``; any command that loads a template
/// (`serve`, `invoke`, `load`) adopts them by adopting that group, or this one alone.
struct TemplateOverrideOptions: ParsableArguments {
    @Option(
        name: .customLong("parameter"), help: ArgumentHelp("Override a template parameter.", valueName: "KEY=VALUE"))
    var parameters: [String] = []

    @Option(
        help: ArgumentHelp(
            "Override template parameters as `sam` takes them: 'K=V K2=V2' (or ParameterKey=K,ParameterValue=V).",
            valueName: "OVERRIDES"))
    var parameterOverrides: [String] = []

    @Option(
        help: ArgumentHelp(
            "Function environment values in SAM's format: {\"Function\": {\"VAR\": \"v\"}, \"Parameters\": {\"VAR\": \"v for all\"}}.",
            valueName: "FILE.json"))
    var envVars: String?

    @Option(help: "AWS::StackName of the template.")
    var stackName: String = "local"

    /// `--parameter-overrides` first, then each `--parameter` (which wins).
    var parameterValues: [String: String] {
        get throws {
            var values: [String: String] = [:]
            do {
                for text in parameterOverrides { values.merge(try ParameterOverrides.parse(sam: text)) { $1 } }
                for parameter in parameters {
                    let (key, value) = try ParameterOverrides.pair(parameter)
                    values[key] = value
                }
            } catch {
                throw ValidationError(error.description)
            }
            return values
        }
    }

    /// Puts the overrides into `loader`. Throws a ``TemplateError`` for a bad `--env-vars` file.
    func apply(to loader: inout TemplateLoader) throws {
        loader.parameterOverrides = try parameterValues
        loader.stackName = stackName
        if let envVars { loader.environmentOverrides = try EnvironmentOverrides.load(path: envVars) }
    }

    /// Puts the overrides into a host's configuration. Throws a ``TemplateError`` for a bad `--env-vars` file.
    func apply(to configuration: inout HostConfiguration) throws {
        configuration.parameterOverrides = try parameterValues
        configuration.stackName = stackName
        if let envVars { configuration.environmentOverrides = try EnvironmentOverrides.load(path: envVars) }
    }
}
