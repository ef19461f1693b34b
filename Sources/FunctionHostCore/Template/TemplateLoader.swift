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
        /// `AWS::Kinesis::Stream` resources, in template order.
        public var streams: [StreamDefinition] = []
        /// SQS `Events` and `AWS::Lambda::EventSourceMapping` resources.
        public var eventSourceMappings: [EventSourceMapping] = []
        /// `Schedule`/`ScheduleV2` events, `AWS::Events::Rule` and `AWS::Scheduler::Schedule` resources.
        public var schedules: [ScheduleDefinition] = []
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
    /// Types without local effect, skipped without a warning (`sam init` adds the Application Insights pair).
    static let silentTypes: Set<String> = [
        "AWS::CDK::Metadata", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::Lambda::Permission",
        "AWS::ResourceGroups::Group", "AWS::ApplicationInsights::Application",
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
            let function = result.functions[index]
            result.functions[index].environment = environmentOverrides.apply(to: function)
            // The --env-vars values count towards the same limit as the template's own.
            if let excess = Self.environmentExcess(result.functions[index].environment) {
                throw TemplateError(
                    file: path, resource: function.logicalID, property: "Environment.Variables",
                    message: excess + " (with the --env-vars values)")
            }
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
            case Self.streamType:
                result.streams.append(
                    try loadStream(
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
            case _ where Self.eventSourceTypes.contains(type):
                continue  // read after the functions: loadEventSourceMappings, loadSchedules
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
        try checkStreamNames(result.streams, file: file)
        result.eventSourceMappings = try loadEventSourceMappings(
            resources, functions: result.functions, queues: result.queues, streams: result.streams, resolver: resolver,
            file: file,
            warnings: &result.warnings)
        result.schedules = try loadSchedules(
            resources, functions: result.functions, resolver: resolver, file: file, warnings: &result.warnings)
        for child in children {
            result.functions += child.functions
            result.warnings += child.warnings
            result.queues += child.queues
            result.streams += child.streams
            result.skipped += child.skipped
            result.deferredResources += child.deferredResources
            result.eventSourceMappings += child.eventSourceMappings
            result.schedules += child.schedules
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
        let simulated = functionTypes.union(layerTypes).union(nestedStackTypes).union(silentTypes).union([queueType, streamType])
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
}
