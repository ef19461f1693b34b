import Foundation

/// Loads a SAM template (`AWS::Serverless-2016-10-31`) into validated function configurations.
///
/// Every failure is a ``TemplateError`` naming the file, resource and property; nothing is
/// started by loading. Resource types fnhost does not simulate yet are skipped with a warning.
public struct TemplateLoader: Sendable {
    public var account: AccountContext
    /// Values for template `Parameters`, overriding their `Default`.
    public var parameterOverrides: [String: String]
    /// `http://HOST:PORT` of the serve port: the base of queue URLs (`!Ref Queue`, `!GetAtt Queue.QueueUrl`).
    public var queueEndpoint = "http://127.0.0.1:3001"

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
        /// `Schedule`/`ScheduleV2` events, `AWS::Events::Rule` and `AWS::Scheduler::Schedule` resources.
        public var schedules: [ScheduleDefinition] = []
    }

    static let functionType = "AWS::Serverless::Function"

    /// Properties of `AWS::Serverless::Function` that fnhost reads now.
    static let implementedProperties: Set<String> = [
        "CodeUri", "Handler", "Runtime", "MemorySize", "Timeout", "Environment", "Description", "FunctionName",
        "ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig", "Layers", "EphemeralStorage",
        "EventInvokeConfig", "DeadLetterQueue",
    ]

    /// Properties of `AWS::Serverless::Function` accepted now and implemented by later features, or without local effect.
    static let acceptedProperties: Set<String> = [
        "Architectures", "AssumeRolePolicyDocument", "AutoPublishAlias", "AutoPublishAliasAllProperties",
        "AutoPublishCodeSha256", "CodeSigningConfigArn", "DeploymentPreference",
        "Events", "FileSystemConfigs", "FunctionUrlConfig", "KmsKeyArn", "LoggingConfig",
        "PermissionsBoundary", "Policies", "PropagateTags", "RecursiveLoop", "Role", "RolePath", "RuntimeManagementConfig", "SnapStart", "SourceKMSKeyArn",
        "Tags", "Tracing", "VersionDescription", "VpcConfig", "PackageType",
    ]

    public func load(path: String) throws(TemplateError) -> Result {
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
        return try load(root, file: path, baseDirectory: directory)
    }

    func load(_ root: TemplateValue, file: String, baseDirectory: String) throws(TemplateError) -> Result {
        guard root.entries != nil else { throw TemplateError(file: file, message: "the template is not a mapping") }
        guard let resources = root["Resources"]?.entries, !resources.isEmpty else {
            throw TemplateError(file: file, message: "the template has no Resources")
        }
        var warnings: [String] = []
        let resolver = try makeResolver(root: root, resources: resources, file: file)
        let globals = root["Globals"]?["Function"] ?? .map([])
        let layers = try Self.loadLayers(resources, resolver: resolver, file: file, baseDirectory: baseDirectory)

        var functions: [FunctionConfiguration] = []
        var queues: [QueueDefinition] = []
        var names: [String: String] = [:]
        for (logicalID, resource) in resources {
            guard let type = resource["Type"]?.string else {
                throw TemplateError(file: file, resource: logicalID, property: "Type", message: "is missing")
            }
            if type == Self.queueType {
                queues.append(
                    try loadQueue(
                        logicalID, properties: resource["Properties"] ?? .map([]), resolver: resolver, file: file,
                        warnings: &warnings))
                continue
            }
            guard type == Self.functionType else {
                if Self.layerTypes.contains(type) || Self.eventSourceTypes.contains(type) { continue }
                warnings.append("\(file): skipping resource \(logicalID): type \(type) is not simulated by fnhost yet")
                continue
            }
            let properties = Self.merge(global: globals, local: resource["Properties"] ?? .map([]))
            var function = try loadFunction(
                logicalID, properties: properties, resolver: resolver, file: file, baseDirectory: baseDirectory,
                warnings: &warnings)
            try loadSandboxProperties(
                into: &function, properties: properties, resolver: resolver, layers: layers, file: file,
                baseDirectory: baseDirectory)
            if let other = names[function.functionName] {
                throw TemplateError(
                    file: file, resource: logicalID, property: "FunctionName",
                    message: "\(function.functionName) is already the name of \(other)")
            }
            names[function.functionName] = logicalID
            functions.append(function)
        }
        try checkRedriveTargets(queues, file: file)
        let mappings = try loadEventSourceMappings(
            resources, functions: functions, queues: queues, resolver: resolver, file: file, warnings: &warnings)
        let schedules = try loadSchedules(
            resources, functions: functions, resolver: resolver, file: file, warnings: &warnings)
        return Result(
            functions: functions, warnings: warnings, queues: queues, eventSourceMappings: mappings, schedules: schedules)
    }

    private func makeResolver(
        root: TemplateValue, resources: [(String, TemplateValue)], file: String
    ) throws(TemplateError) -> IntrinsicResolver {
        var references: [String: TemplateValue] = [
            "AWS::Region": .string(account.region),
            "AWS::AccountId": .string(account.accountID),
            "AWS::StackName": .string("fnhost"),
            "AWS::StackId": .string("arn:aws:cloudformation:\(account.region):\(account.accountID):stack/fnhost/local"),
            "AWS::Partition": .string("aws"),
            "AWS::URLSuffix": .string("amazonaws.com"),
        ]
        for (name, parameter) in root["Parameters"]?.entries ?? [] {
            if let value = parameterOverrides[name] ?? parameter["Default"]?.string {
                references[name] = .string(value)
            } else if let list = parameter["Default"], case .list = list {
                references[name] = list
            } else {
                throw TemplateError(
                    file: file, resource: "Parameters.\(name)", property: "Default",
                    message: "the parameter has no Default and no value was given")
            }
        }
        var attributes: [String: [String: String]] = [:]
        for (logicalID, resource) in resources {
            if resource["Type"]?.string == Self.queueType {
                let queue = queueReferences(logicalID: logicalID, properties: resource["Properties"])
                references[logicalID] = .string(queue.ref)
                attributes[logicalID] = queue.attributes
                continue
            }
            guard resource["Type"]?.string == Self.functionType else {
                references[logicalID] = .string(logicalID)
                continue
            }
            let name = resource["Properties"]?["FunctionName"]?.string ?? logicalID
            references[logicalID] = .string(name)
            attributes[logicalID] = ["Arn": account.functionARN(name)]
        }
        return IntrinsicResolver(references: references, attributes: attributes)
    }

    private func loadFunction(
        _ logicalID: String, properties unresolved: TemplateValue, resolver: IntrinsicResolver, file: String,
        baseDirectory: String, warnings: inout [String]
    ) throws(TemplateError) -> FunctionConfiguration {
        func failure(_ property: String, _ message: String) -> TemplateError {
            TemplateError(file: file, resource: logicalID, property: property, message: message)
        }
        var properties: [String: TemplateValue] = [:]
        var deferred: [String] = []
        for (name, value) in unresolved.entries ?? [] {
            if Self.implementedProperties.contains(name) {
                do {
                    properties[name] = try resolver.resolve(value)
                } catch {
                    throw failure(name, error.message)
                }
            } else if Self.acceptedProperties.contains(name) {
                deferred.append(name)
            } else if name == "InlineCode" || name == "ImageUri" {
                throw failure(name, "is not supported by fnhost; give the code as a CodeUri directory")
            } else {
                warnings.append("\(file): resource \(logicalID): ignoring unknown property \(name)")
            }
        }
        if case .string(let packageType) = unresolved["PackageType"] ?? .null, packageType != "Zip" {
            throw failure("PackageType", "\(packageType) is not supported by fnhost; only Zip functions run locally")
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
        guard let codeURI = try string("CodeUri") else { throw failure("CodeUri", "is missing") }
        let codeDirectory = URL(
            fileURLWithPath: codeURI, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true)
        ).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: codeDirectory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw failure("CodeUri", "\(codeURI) is not a directory (looked for \(codeDirectory))")
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
            logicalID: logicalID,
            functionName: functionName,
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
