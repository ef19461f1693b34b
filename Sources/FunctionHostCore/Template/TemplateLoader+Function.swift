import Foundation

/// `AWS::Serverless::Function` and `AWS::Lambda::Function` resources, loaded or skipped.
extension TemplateLoader {
    /// A function resource loaded, or skipped with the reason when fnhost cannot run it.
    enum FunctionLoad {
        case loaded(FunctionConfiguration)
        case skipped(SkippedFunction)
    }

    /// Loads an `AWS::Serverless::Function` (with `Globals`) or an `AWS::Lambda::Function`.
    func loadFunction(
        _ logicalID: String, type: String, resource: TemplateValue, globals: TemplateValue, resolver: IntrinsicResolver,
        layers: [String: LayerResource], file: String, baseDirectory: String, scope: StackScope,
        warnings: inout [String]
    ) throws(TemplateError) -> FunctionLoad {
        let path = scope.prefix + logicalID
        let properties: TemplateValue
        var names: [String: String] = [:]
        if type == Self.lambdaFunctionType {
            let normalized = Self.serverlessProperties(ofLambdaFunction: resource["Properties"] ?? .map([]))
            if let reason = normalized.skipReason { return .skipped(SkippedFunction(name: path, reason: reason)) }
            properties = normalized.properties
            names = Self.lambdaPropertyNames
        } else {
            properties = Self.merge(global: globals, local: resource["Properties"] ?? .map([]))
        }
        do {
            if let reason = try skipReason(properties, resolver: resolver, file: file, logicalID: logicalID) {
                return .skipped(SkippedFunction(name: path, reason: reason))
            }
            var function = try loadFunction(
                logicalID, path: path, properties: properties, resolver: resolver, file: file,
                baseDirectory: baseDirectory, warnings: &warnings)
            try loadSandboxProperties(
                into: &function, properties: properties, resolver: resolver, layers: layers, file: file,
                baseDirectory: baseDirectory)
            for arn in function.publishedLayers {
                warnings.append(
                    "\(file): function \(path): layer \(arn) is a published layer fnhost cannot fetch; invoking the function fails until Layers names a local directory or .zip"
                )
            }
            return .loaded(function)
        } catch {
            var renamed = error
            if let property = error.property {
                let head = String(property.prefix { $0 != "." })
                if let name = names[head] { renamed.property = name + property.dropFirst(head.count) }
            }
            throw renamed
        }
    }

    /// Why fnhost cannot run this function (a container image, a runtime it does not support), or `nil`.
    private func skipReason(
        _ properties: TemplateValue, resolver: IntrinsicResolver, file: String, logicalID: String
    ) throws(TemplateError) -> String? {
        func resolved(_ name: String) throws(TemplateError) -> String? {
            guard let value = properties[name] else { return nil }
            do {
                return try resolver.resolve(value).string
            } catch {
                throw TemplateError(file: file, resource: logicalID, property: name, message: error.message)
            }
        }
        if try resolved("PackageType") == "Image" || properties["ImageUri"] != nil {
            return "PackageType Image (a container image) is not supported by fnhost; only Zip functions run locally"
        }
        if let runtime = try resolved("Runtime"), FunctionRuntime(identifier: runtime) == nil {
            return
                "runtime \(runtime) is not supported by fnhost (supported: \(FunctionRuntime.supportedIdentifiers.joined(separator: ", ")))"
        }
        return nil
    }

    private func loadFunction(
        _ logicalID: String, path: String, properties unresolved: TemplateValue, resolver: IntrinsicResolver,
        file: String, baseDirectory: String, warnings: inout [String]
    ) throws(TemplateError) -> FunctionConfiguration {
        func failure(_ property: String, _ message: String) -> TemplateError {
            TemplateError(file: file, resource: logicalID, property: property, message: message)
        }
        var properties: [String: TemplateValue] = [:]
        var deferred: [String] = []
        for (name, value) in unresolved.entries ?? [] {
            if Self.implementedProperties.contains(name) {
                let resolved: TemplateValue
                do {
                    resolved = try resolver.resolve(value)
                } catch {
                    throw failure(name, error.message)
                }
                if resolved != IntrinsicResolver.noValue { properties[name] = resolved }
            } else if Self.acceptedProperties.contains(name) {
                deferred.append(name)
            } else {
                warnings.append("\(file): resource \(logicalID): ignoring unknown property \(name)")
            }
        }
        if case .string(let packageType) = unresolved["PackageType"] ?? .null, packageType != "Zip" {
            throw failure("PackageType", "\(packageType) is not a package type (Zip or Image)")
        }

        func string(_ property: String) throws(TemplateError) -> String? {
            guard let value = properties[property] else { return nil }
            guard let text = value.string else { throw failure(property, "must be a string") }
            return text
        }
        func integer(_ property: String, default defaultValue: Int, range: ClosedRange<Int>, unit: String)
            throws(TemplateError) -> Int
        {
            guard let text = try string(property) else { return defaultValue }
            guard let value = Int(text) else { throw failure(property, "must be an integer, got \(text)") }
            guard range.contains(value) else {
                throw failure(
                    property, "must be between \(range.lowerBound) and \(range.upperBound) \(unit), got \(value)")
            }
            return value
        }

        guard let runtimeName = try string("Runtime") else {
            throw failure("Runtime", "is missing (set it on the function or in Globals.Function)")
        }
        guard let runtime = FunctionRuntime(identifier: runtimeName) else {
            throw failure(
                "Runtime",
                "\(runtimeName) is not a runtime fnhost supports (supported: \(FunctionRuntime.supportedIdentifiers.joined(separator: ", ")))"
            )
        }
        guard let handler = try string("Handler"), !handler.isEmpty else { throw failure("Handler", "is missing") }
        let codeDirectory: String
        let codeURI = try string("CodeUri")
        let inlineCode = try string("InlineCode")
        switch (codeURI, inlineCode) {
        case (.some, .some):
            throw failure("InlineCode", "cannot be given together with CodeUri")
        case (nil, .some(let code)):
            codeDirectory = try writeInlineCode(code, runtime: runtime, path: path, failure: failure)
        case (nil, nil):
            throw failure("CodeUri", "is missing")
        case (.some(let codeURI), nil):
            codeDirectory =
                URL(
                    fileURLWithPath: codeURI, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true)
                ).standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: codeDirectory, isDirectory: &isDirectory),
                isDirectory.boolValue
            else {
                throw failure("CodeUri", "\(codeURI) is not a directory (looked for \(codeDirectory))")
            }
        }

        var environment: [String: String] = [:]
        if let env = properties["Environment"] {
            guard let variables = env["Variables"] ?? (env.entries?.isEmpty == true ? .map([]) : nil),
                let entries = variables.entries
            else { throw failure("Environment", "must be a mapping with Variables") }
            for (key, value) in entries {
                guard let text = value.string else { throw failure("Environment.Variables.\(key)", "must be a string") }
                environment[key] = text
            }
        }
        let functionName = try string("FunctionName")
        if let functionName, !FunctionReference.isValidName(functionName) {
            throw failure(
                "FunctionName", "\(functionName) is not a valid function name (1-64 of a-z, A-Z, 0-9, - and _)")
        }
        var function = FunctionConfiguration(
            logicalID: path,
            functionName: functionName ?? path,
            runtime: runtime,
            handler: handler,
            codeDirectory: codeDirectory,
            memorySize: try integer("MemorySize", default: 128, range: 128...10240, unit: "MB"),
            timeout: try integer("Timeout", default: 3, range: 1...900, unit: "seconds"),
            environment: environment,
            description: try string("Description") ?? "",
            deferredProperties: deferred.sorted()
        )
        try loadConcurrency(into: &function, properties, unresolved, failure: failure)
        try loadAsyncInvocation(into: &function, properties, failure: failure)
        return function
    }

    /// SAM's Globals rule: maps merge key by key (the resource wins), lists concatenate
    /// (globals first), and any other value set on the resource replaces the global one.
    static func merge(global: TemplateValue, local: TemplateValue) -> TemplateValue {
        switch (global, local) {
        case (.map(let globalEntries), .map(let localEntries)):
            var merged = globalEntries.map { key, value in
                (key, localEntries.first { $0.0 == key }.map { merge(global: value, local: $0.1) } ?? value)
            }
            merged += localEntries.filter { entry in !globalEntries.contains { $0.0 == entry.0 } }
            return .map(merged)
        case (.list(let globalItems), .list(let localItems)):
            return .list(globalItems + localItems)
        default:
            return local
        }
    }
}
