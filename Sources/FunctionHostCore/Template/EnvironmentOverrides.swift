import Foundation

/// `--env-vars FILE.json` in SAM's format: `{"FunctionLogicalId": {"VAR": "value"}, "Parameters":
/// {"VAR": "value for all"}}`.
///
/// As `sam local` does, a value replaces a variable the function declares in
/// `Environment.Variables`; variables the template does not declare are not added. A function
/// is named by its address (`Child/Function` in a nested stack) or its `FunctionName`; its own
/// entry wins over `Parameters`. Numbers and booleans become their JSON text.
public struct EnvironmentOverrides: Sendable, Hashable {
    public var shared: [String: String]
    public var byFunction: [String: [String: String]]

    public init(shared: [String: String] = [:], byFunction: [String: [String: String]] = [:]) {
        self.shared = shared
        self.byFunction = byFunction
    }

    /// Reads and checks the file; throws a ``TemplateError`` naming it and the offending key.
    public static func load(path: String) throws(TemplateError) -> EnvironmentOverrides {
        let top: TemplateValue
        do {
            // JSON is YAML; scalars keep their text (`8080`, `true`), which is what a variable gets.
            top = try TemplateValue.parse(yaml: try String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw TemplateError(file: path, message: "cannot read the environment file as JSON: \(error)")
        }
        guard let entries = top.entries else {
            throw TemplateError(
                file: path, message: "must be a JSON object of function names (and Parameters) to variables")
        }
        var overrides = EnvironmentOverrides()
        for (name, value) in entries {
            guard let variables = value.entries else {
                throw TemplateError(
                    file: path, resource: name, message: "must be an object of variable names to values")
            }
            var strings: [String: String] = [:]
            for (key, raw) in variables {
                guard let text = raw.string else {
                    throw TemplateError(
                        file: path, resource: name, property: key, message: "must be a string, number or boolean")
                }
                strings[key] = text
            }
            if name == "Parameters" { overrides.shared = strings } else { overrides.byFunction[name] = strings }
        }
        return overrides
    }

    /// `function`'s environment with the overrides applied.
    public func apply(to function: FunctionConfiguration) -> [String: String] {
        var environment = function.environment
        let own = byFunction[function.logicalID] ?? byFunction[function.functionName] ?? [:]
        for key in environment.keys {
            if let value = own[key] ?? shared[key] { environment[key] = value }
        }
        return environment
    }
}
