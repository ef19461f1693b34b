import ArgumentParser
import FunctionHostCore

/// `fnhost list`: the template's functions, one per line, including those fnhost skips.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the template's functions.")

    @OptionGroup var options: TemplateOptions

    func run() throws {
        let template: TemplateLoader.Result
        do {
            template = try options.loader().load(path: options.template)
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
        for function in template.functions {
            let name = function.functionName == function.logicalID ? function.functionName : "\(function.functionName) (\(function.logicalID))"
            var line = "\(name)\t\(function.runtime)\t\(function.handler)\t\(function.memorySize) MB\t\(function.timeout) s"
            if !function.publishedLayers.isEmpty {
                line += "\tfails at invoke: published layer \(function.publishedLayers.joined(separator: ", ")) cannot be fetched"
            }
            print(line)
        }
        for skipped in template.skipped { print("\(skipped.name)\tskipped: \(skipped.reason)") }
    }
}

/// `fnhost validate`: loads the template and reports problems (exit status 2) or OK.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a template without starting anything.")

    @OptionGroup var options: TemplateOptions

    @Flag(help: "Fail (exit 2) when any function would be skipped or could not run, as CI wants.")
    var strict = false

    func run() throws {
        let template: TemplateLoader.Result
        do {
            template = try options.loader().load(path: options.template)
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
        for warning in template.warnings { print("warning: \(warning)") }
        if strict {
            let problems = template.skipped.map { "function \($0.name) is skipped: \($0.reason)" }
                + template.functions.filter { !$0.publishedLayers.isEmpty }.map {
                    "function \($0.logicalID) cannot run: published layer \($0.publishedLayers.joined(separator: ", ")) cannot be fetched"
                }
            if !problems.isEmpty {
                Self.exitWithStartupFailure(
                    "\(options.template): --strict: " + problems.joined(separator: "; "))
            }
        }
        print("\(options.template): OK, \(template.functions.count) functions")
    }
}
