import ArgumentParser
import FunctionHostCore

/// `fnhost list`: the template's functions, one per line.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the template's functions.")

    @OptionGroup var options: TemplateOptions

    func run() throws {
        let template: TemplateLoader.Result
        do {
            template = try TemplateLoader(account: options.accountContext, parameterOverrides: try options.parameterOverrides)
                .load(path: options.template)
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
        for function in template.functions {
            let name = function.functionName == function.logicalID ? function.functionName : "\(function.functionName) (\(function.logicalID))"
            print("\(name)\t\(function.runtime)\t\(function.handler)\t\(function.memorySize) MB\t\(function.timeout) s")
        }
    }
}

/// `fnhost validate`: loads the template and reports problems (exit status 2) or OK.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a template without starting anything.")

    @OptionGroup var options: TemplateOptions

    func run() throws {
        let template: TemplateLoader.Result
        do {
            template = try TemplateLoader(account: options.accountContext, parameterOverrides: try options.parameterOverrides)
                .load(path: options.template)
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
        for warning in template.warnings { print("warning: \(warning)") }
        print("\(options.template): OK, \(template.functions.count) functions")
    }
}
