import Crypto
import Foundation

/// Loads a SAM, CloudFormation or CDK (`cdk synth`) template into validated function configurations.
///
/// A template-level failure is a ``TemplateError`` naming the file, resource and property;
/// nothing is started by loading. A function fnhost cannot run (a container image, an
/// unsupported runtime, code only in S3, a duplicate `FunctionName`) is skipped with a warning
/// and listed in ``Result/skipped``; resource types fnhost does not simulate yet are skipped
/// with a warning. Nested stacks with a local template load recursively, their functions
/// addressed as `Child/Function`.
public struct TemplateLoader: Sendable {
    public var account: AccountContext
    /// Values for template `Parameters`, overriding their `Default`.
    public var parameterOverrides: [String: String]
    /// `http://HOST:PORT` of the serve port: the base of queue URLs (`!Ref Queue`, `!GetAtt Queue.QueueUrl`).
    public var queueEndpoint = "http://127.0.0.1:3001"
    /// `AWS::StackName` of the template (`--stack-name`); nested stacks get `NAME-Child`.
    public var stackName = "local"
    /// The state directory: inline code (`Code.ZipFile`, `InlineCode`) is written under `inline/` in it.
    public var stateDirectory = ".fnhost"
    /// `--env-vars FILE.json`: values for the variables functions declare.
    public var environmentOverrides = EnvironmentOverrides()

    public init(account: AccountContext = AccountContext(), parameterOverrides: [String: String] = [:]) {
        self.account = account
        self.parameterOverrides = parameterOverrides
    }

    /// What a template yields: the functions, in template order, and one-line warnings.
    public struct Result: Sendable {
        public var functions: [FunctionConfiguration]
        public var warnings: [String]
        /// `AWS::SQS::Queue` resources, in template order.
        public var queues: [QueueDefinition] = []
        /// SQS `Events` and `AWS::Lambda::EventSourceMapping` resources.
        public var eventSourceMappings: [EventSourceMapping] = []
        /// Functions of the template that fnhost cannot run, with the reason (also one warning each).
        public var skipped: [SkippedFunction] = []
        /// Resources accepted for later parsers (event-source mappings, invoke configs, versions, aliases).
        public var deferredResources: [DeferredResource] = []
        /// The template files read, as absolute paths: the template, then its nested stacks' (hot reload watches them).
        public var templateFiles: [String] = []
        /// The template's `Outputs`, resolved: what `!GetAtt Child.Outputs.X` gives a parent stack.
        var outputs: [String: String] = [:]
    }

    /// One template in a tree of nested stacks: where its functions are addressed and what it was given.
    struct StackScope {
        /// `""` for the root template, `Child/` (then `Child/Grandchild/`) for nested ones.
        var prefix: String
        var name: String
        var parameters: [String: String]
        var depth: Int
    }

    static let serverlessFunctionType = "AWS::Serverless::Function"
    static let lambdaFunctionType = "AWS::Lambda::Function"
    static let functionTypes: Set<String> = [serverlessFunctionType, lambdaFunctionType]

    /// Types read by later parsers (``Result/deferredResources``), not by this loader.
    static let deferredTypes: Set<String> = [
        "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::Version", "AWS::Lambda::Alias",
    ]
    /// Types without local effect, skipped without a warning.
    static let silentTypes: Set<String> = [
        "AWS::CDK::Metadata", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::Lambda::Permission",
    ]

    /// Properties of `AWS::Serverless::Function` (and, renamed, `AWS::Lambda::Function`) that fnhost reads now.
    static let implementedProperties: Set<String> = [
        "CodeUri", "InlineCode", "Handler", "Runtime", "MemorySize", "Timeout", "Environment", "Description",
        "FunctionName", "ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig", "Layers", "EphemeralStorage",
        "EventInvokeConfig", "DeadLetterQueue",
    ]

    /// Properties accepted now and implemented by later features, or without local effect.
    static let acceptedProperties: Set<String> = [
        "Architectures", "AssumeRolePolicyDocument", "AutoPublishAlias", "AutoPublishAliasAllProperties",
        "AutoPublishCodeSha256", "CodeSigningConfigArn", "DeploymentPreference",
        "Events", "FileSystemConfigs", "FunctionUrlConfig", "ImageConfig", "KmsKeyArn", "LoggingConfig",
        "PermissionsBoundary", "Policies", "PropagateTags", "RecursiveLoop", "Role", "RolePath", "RuntimeManagementConfig", "SnapStart", "SourceKMSKeyArn",
        "Tags", "Tracing", "TracingConfig", "VersionDescription", "VpcConfig", "PackageType",
    ]

    public func load(path: String) throws(TemplateError) -> Result {
        var result = try load(path: path, scope: StackScope(prefix: "", name: stackName, parameters: parameterOverrides, depth: 0))
        skipDuplicateNames(&result, file: path)
        for index in result.functions.indices {
            result.functions[index].environment = environmentOverrides.apply(to: result.functions[index])
        }
        return result
    }

    func load(path: String, scope: StackScope) throws(TemplateError) -> Result {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TemplateError(file: path, message: "cannot read the template: \(error.localizedDescription)")
        }
        let root: TemplateValue
        do {
            root = try TemplateValue.parse(yaml: text)
        } catch {
            throw TemplateError(file: path, message: "YAML does not parse: \(error)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var result = try load(root, file: path, baseDirectory: directory, scope: scope)
        result.templateFiles.insert(URL(fileURLWithPath: path).standardizedFileURL.path, at: 0)
        return result
    }

    func load(_ root: TemplateValue, file: String, baseDirectory: String) throws(TemplateError) -> Result {
        try load(
            root, file: file, baseDirectory: baseDirectory,
            scope: StackScope(prefix: "", name: stackName, parameters: parameterOverrides, depth: 0))
    }

    func load(_ root: TemplateValue, file: String, baseDirectory: String, scope: StackScope) throws(TemplateError) -> Result {
        guard root.entries != nil else { throw TemplateError(file: file, message: "the template is not a mapping") }
        guard let declared = root["Resources"]?.entries, !declared.isEmpty else {
            throw TemplateError(file: file, message: "the template has no Resources")
        }
        var resolver = try makeResolver(root: root, file: file, scope: scope)
        let resources = try Self.existingResources(declared, resolver: resolver, file: file)
        addResourceReferences(resources, to: &resolver, scope: scope)
        var result = Result(functions: [], warnings: Self.placeholderWarnings(resources, file: file))

        // Nested stacks first, so `!GetAtt Child.Outputs.X` resolves wherever it is used.
        var children: [Result] = []
        for (logicalID, resource) in resources {
            guard let type = resource["Type"]?.string, Self.nestedStackTypes.contains(type) else { continue }
            guard
                let child = try loadNestedStack(
                    logicalID, type: type, resource: resource, resolver: resolver, file: file,
                    baseDirectory: baseDirectory, scope: scope, warnings: &result.warnings)
            else { continue }
            resolver.attributes[logicalID] = Dictionary(
                uniqueKeysWithValues: child.outputs.map { ("Outputs.\($0.key)", $0.value) })
            children.append(child)
        }

        let globals = root["Globals"]?["Function"] ?? .map([])
        let layers = try Self.loadLayers(resources, resolver: resolver, file: file, baseDirectory: baseDirectory)
        for (logicalID, resource) in resources {
            guard let type = resource["Type"]?.string else {
                throw TemplateError(file: file, resource: logicalID, property: "Type", message: "is missing")
            }
            switch type {
            case Self.queueType:
                result.queues.append(
                    try loadQueue(
                        logicalID, properties: resource["Properties"] ?? .map([]), resolver: resolver, file: file,
                        warnings: &result.warnings))
            case _ where Self.functionTypes.contains(type):
                let load = try loadFunction(
                    logicalID, type: type, resource: resource, globals: globals, resolver: resolver, layers: layers,
                    file: file, baseDirectory: baseDirectory, scope: scope, warnings: &result.warnings)
                switch load {
                case .loaded(let function):
                    result.functions.append(function)
                case .skipped(let skip):
                    result.skipped.append(skip)
                    result.warnings.append("\(file): skipping function \(skip.name): \(skip.reason)")
                }
            case Self.eventSourceMappingType:
                continue  // read after the functions, by loadEventSourceMappings
            case _ where Self.deferredTypes.contains(type):
                result.deferredResources.append(
                    deferredResource(logicalID, type: type, resource: resource, resolver: resolver, file: file, scope: scope))
            case _ where Self.layerTypes.contains(type) || Self.nestedStackTypes.contains(type)
                || Self.silentTypes.contains(type):
                continue
            default:
                result.warnings.append("\(file): skipping resource \(logicalID): type \(type) is not simulated by fnhost yet")
            }
        }
        try checkRedriveTargets(result.queues, file: file)
        result.eventSourceMappings = try loadEventSourceMappings(
            resources, functions: result.functions, queues: result.queues, resolver: resolver, file: file,
            warnings: &result.warnings)
        for child in children {
            result.functions += child.functions
            result.warnings += child.warnings
            result.queues += child.queues
            result.skipped += child.skipped
            result.deferredResources += child.deferredResources
            result.eventSourceMappings += child.eventSourceMappings
            result.templateFiles += child.templateFiles
        }
        result.outputs = Self.outputs(root, resolver: resolver)
        return result
    }

    /// The resources whose `Condition` holds, with CDK asset metadata (`aws:asset:path` and
    /// `aws:asset:property`) put in place of the property it names.
    static func existingResources(
        _ resources: [(String, TemplateValue)], resolver: IntrinsicResolver, file: String
    ) throws(TemplateError) -> [(String, TemplateValue)] {
        var existing: [(String, TemplateValue)] = []
        for (logicalID, resource) in resources {
            if let condition = resource["Condition"] {
                guard let name = condition.string, let holds = resolver.conditions[name] else {
                    throw TemplateError(
                        file: file, resource: logicalID, property: "Condition",
                        message: "\(condition.string ?? "a non-string") is not a condition defined in Conditions")
                }
                if !holds { continue }
            }
            existing.append((logicalID, applyingAssetMetadata(resource)))
        }
        return existing
    }

    /// `cdk synth` leaves the asset's local directory in `Metadata`; it replaces the S3 location.
    static func applyingAssetMetadata(_ resource: TemplateValue) -> TemplateValue {
        guard let path = resource["Metadata"]?["aws:asset:path"]?.string,
            let property = resource["Metadata"]?["aws:asset:property"]?.string,
            case .map(var entries) = resource
        else { return resource }
        var properties = resource["Properties"]?.entries ?? []
        properties.removeAll { $0.0 == property }
        properties.append((property, .string(path)))
        entries.removeAll { $0.0 == "Properties" }
        entries.append(("Properties", .map(properties)))
        return .map(entries)
    }

    /// One warning per resource that uses an intrinsic fnhost answers with a placeholder, or reads
    /// an attribute of a resource fnhost does not simulate (IAM roles and policies aside).
    static func placeholderWarnings(_ resources: [(String, TemplateValue)], file: String) -> [String] {
        let types = Dictionary(resources.map { ($0.0, $0.1["Type"]?.string ?? "") }, uniquingKeysWith: { first, _ in first })
        let simulated = functionTypes.union(layerTypes).union(nestedStackTypes).union(silentTypes).union([queueType])
        return resources.flatMap { logicalID, resource in
            let properties = resource["Properties"] ?? .null
            let intrinsics = properties.intrinsicNames().intersection(IntrinsicResolver.placeholderFunctions).sorted().map {
                "\(file): resource \(logicalID): \($0) is answered with a placeholder (\($0 == "Fn::GetAZs" ? "three zones of the region" : "the export's name"))"
            }
            let attributes = properties.getAttTargets().filter { types[$0].map { !simulated.contains($0) } ?? false }.sorted().map {
                "\(file): resource \(logicalID): Fn::GetAtt of \($0) (\(types[$0] ?? "")) is answered with a placeholder; fnhost does not simulate that type"
            }
            return intrinsics + attributes
        }
    }

    private func makeResolver(root: TemplateValue, file: String, scope: StackScope) throws(TemplateError) -> IntrinsicResolver {
        let stackID = "arn:aws:cloudformation:\(account.region):\(account.accountID):stack/\(scope.name)/\(Self.stackUUID(scope.name))"
        var references: [String: TemplateValue] = [
            "AWS::Region": .string(account.region),
            "AWS::AccountId": .string(account.accountID),
            "AWS::StackName": .string(scope.name),
            "AWS::StackId": .string(stackID),
            "AWS::Partition": .string("aws"),
            "AWS::URLSuffix": .string("amazonaws.com"),
            "AWS::NotificationARNs": .list([]),
        ]
        var missing: Set<String> = []
        for (name, parameter) in root["Parameters"]?.entries ?? [] {
            if let value = scope.parameters[name] ?? parameter["Default"]?.string {
                let isList = parameter["Type"]?.string.map { $0.hasPrefix("List<") || $0 == "CommaDelimitedList" } ?? false
                references[name] =
                    isList ? .list(value.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }) : .string(value)
            } else if let list = parameter["Default"], case .list = list {
                references[name] = list
            } else {
                missing.insert(name)
            }
        }
        var resolver = IntrinsicResolver(references: references, attributes: [:])
        resolver.missingParameters = missing
        resolver.region = account.region
        resolver.accountID = account.accountID
        resolver.mappings = root["Mappings"] ?? .map([])
        do {
            try resolver.evaluateConditions(root["Conditions"]?.entries ?? [])
        } catch {
            throw TemplateError(file: file, resource: "Conditions", message: error.message)
        }
        return resolver
    }

    /// `Ref` and `Fn::GetAtt` answers for the template's resources.
    private func addResourceReferences(
        _ resources: [(String, TemplateValue)], to resolver: inout IntrinsicResolver, scope: StackScope
    ) {
        for (logicalID, resource) in resources {
            let type = resource["Type"]?.string ?? ""
            if type == Self.queueType {
                let queue = queueReferences(logicalID: logicalID, properties: resource["Properties"])
                resolver.references[logicalID] = .string(queue.ref)
                resolver.attributes[logicalID] = queue.attributes
            } else if Self.functionTypes.contains(type) {
                // A `FunctionName` may itself be an intrinsic of parameters (`!Sub orders-${Stage}`).
                let given = resource["Properties"]?["FunctionName"].flatMap { try? resolver.resolve($0).string }
                let name = given ?? scope.prefix + logicalID
                resolver.references[logicalID] = .string(name)
                resolver.attributes[logicalID] = ["Arn": account.functionARN(name)]
            } else {
                resolver.references[logicalID] = .string(logicalID)
                if !Self.nestedStackTypes.contains(type) { resolver.unsimulated[logicalID] = type }
            }
        }
    }

    /// The template's `Outputs` that resolve; an output that does not is absent, so a parent's
    /// `!GetAtt Child.Outputs.X` names it when it is used.
    static func outputs(_ root: TemplateValue, resolver: IntrinsicResolver) -> [String: String] {
        var outputs: [String: String] = [:]
        for (name, output) in root["Outputs"]?.entries ?? [] {
            if let condition = output["Condition"]?.string, resolver.conditions[condition] != true { continue }
            guard let value = output["Value"], let resolved = try? resolver.resolve(value) else { continue }
            switch resolved {
            case .string(let text): outputs[name] = text
            case .list(let items): outputs[name] = items.compactMap(\.string).joined(separator: ",")
            default: continue
            }
        }
        return outputs
    }

    /// A later function whose name another already has is skipped (the first one keeps the name).
    private func skipDuplicateNames(_ result: inout Result, file: String) {
        var owners: [String: String] = [:]
        var kept: [FunctionConfiguration] = []
        for function in result.functions {
            if let owner = owners[function.functionName] {
                let skip = SkippedFunction(
                    name: function.logicalID, reason: "FunctionName \(function.functionName) is already the name of \(owner)")
                result.skipped.append(skip)
                result.warnings.append("\(file): skipping function \(skip.name): \(skip.reason)")
                continue
            }
            owners[function.functionName] = function.logicalID
            kept.append(function)
        }
        result.functions = kept
    }

    /// A stable id for `AWS::StackId`, formatted as CloudFormation's UUIDs are.
    static func stackUUID(_ name: String) -> String {
        let hex = SHA256.hash(data: Data(name.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(hex.dropFirst(range.lowerBound).prefix(range.count))
        }
        return parts.joined(separator: "-")
    }

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
                    "\(file): function \(path): layer \(arn) is a published layer fnhost cannot fetch; invoking the function fails until Layers names a local directory or .zip")
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
            return "runtime \(runtime) is not supported by fnhost (supported: \(FunctionRuntime.supportedIdentifiers.joined(separator: ", ")))"
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
            codeDirectory = URL(
                fileURLWithPath: codeURI, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true)
            ).standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: codeDirectory, isDirectory: &isDirectory), isDirectory.boolValue
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
            throw failure("FunctionName", "\(functionName) is not a valid function name (1-64 of a-z, A-Z, 0-9, - and _)")
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
