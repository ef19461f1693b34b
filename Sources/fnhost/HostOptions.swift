import ArgumentParser
import Foundation
import FunctionHost
import FunctionHostCore

/// Options shared by the commands that load a template (`serve`, `invoke`, `list`, `validate`):
/// the template, its overrides (``TemplateOverrideOptions``), account, region and state directory.
struct TemplateOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The SAM, CloudFormation or CDK (cdk.out/*.template.json) template to load.")
    var template: String = "template.yaml"

    @OptionGroup var overrides: TemplateOverrideOptions

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

    /// The template loader these options describe. Throws a ``TemplateError`` for a bad `--env-vars` file.
    func loader() throws -> TemplateLoader {
        var loader = TemplateLoader(account: accountContext)
        loader.stateDirectory = stateDir
        try overrides.apply(to: &loader)
        return loader
    }

    func hostConfiguration(host: String = "127.0.0.1", port: Int = 3001, console: Int32) throws -> HostConfiguration {
        var configuration = HostConfiguration(
            templatePath: template, host: host, port: port, stateDirectory: stateDir, account: accountContext,
            consoleDescriptor: console)
        try overrides.apply(to: &configuration)
        return configuration
    }
}
