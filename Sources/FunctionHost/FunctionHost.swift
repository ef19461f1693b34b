import FunctionHostCore
import FunctionHostEventSources
import FunctionHostInvokeAPI
import FunctionHostQueues
import FunctionHostRemoteSources
import FunctionHostStore
import FunctionHostStreams
import FunctionHostSupervisor
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The composition root: a loaded template plus the host-wide settings, turned into running
/// services (``serve(logger:onReady:)``) or a single local invocation (``invokeOnce(_:payload:logger:)``).
public struct FunctionHost: Sendable {
    public let configuration: HostConfiguration
    public let catalog: FunctionCatalog
    /// The template's `AWS::SQS::Queue` resources, created in the embedded queue engine at start-up.
    public let queues: [QueueDefinition]
    /// The template's `AWS::Kinesis::Stream` resources, created in the embedded stream engine at start-up.
    public let streams: [StreamDefinition]
    /// The template's event-source mappings, started with the host.
    public let eventSourceMappings: [EventSourceMapping]
    /// The template and its nested templates, as absolute paths.
    public let templateFiles: [String]
    /// The template's schedules (rules and Scheduler schedules targeting its functions).
    public let schedules: [ScheduleDefinition]
    /// One line each, to print at start-up: skipped resources, interpreter fallbacks, missing protections.
    public let warnings: [String]
    /// How workers are held to their `MemorySize` (probed once; see ``MemoryEnforcement``).
    public let memory: MemoryEnforcement
    private let settings: WorkerSettings
    /// Where merged layers are kept, when the sandbox merges them (hot reload merges changed ones again).
    private let layerCache: LayerCache?
    /// Where workers' disk-backed `/tmp` volumes are made (full sandbox with loop devices), else `nil` (a tmpfs).
    private let scratchDirectory: String?

    /// Loads and validates the template and probes the machine. Throws ``TemplateError`` or ``FunctionHostError``.
    public init(configuration: HostConfiguration) throws {
        self.configuration = configuration
        var loader = TemplateLoader(account: configuration.account, parameterOverrides: configuration.parameterOverrides)
        loader.queueEndpoint = "http://\(configuration.host):\(configuration.port)"
        loader.stackName = configuration.stackName
        loader.stateDirectory = configuration.stateDirectory
        loader.environmentOverrides = configuration.environmentOverrides
        var template = try loader.load(path: configuration.templatePath)
        let interpreters = RuntimeInterpreters(
            resolving: template.functions.map(\.runtime),
            searchPath: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        var debugging: String?
        if let debug = configuration.debug {
            debugging = try Self.attachDebugger(debug, to: &template.functions, interpreters: interpreters)
        }
        catalog = FunctionCatalog(template.functions)
        queues = template.queues
        streams = template.streams
        eventSourceMappings = template.eventSourceMappings
        templateFiles = template.templateFiles
        schedules = template.schedules
        try Supervisor.checkReservations(template.functions, limits: configuration.limits)
        guard let launcher = LauncherLocation.path() else {
            throw FunctionHostError(
                "fnhost-launch was not found beside the fnhost executable; build it with `swift build` (or set FNHOST_LAUNCHER)")
        }
        let sandboxCapabilities = SandboxCapabilities.probe(launcher: launcher)
        var warnings = template.warnings + interpreters.warnings + (debugging.map { [$0] } ?? [])
        memory = MemoryEnforcement.probe(preferred: configuration.memoryEnforcement, logger: Logger(label: "fnhost"))
        if let warning = memory.warning { warnings.append(warning) }
        if let warning = sandboxCapabilities.warning { warnings.append(warning) }
        var sandbox = WorkerSandbox(
            level: sandboxCapabilities.level, exposedDirectories: WorkerSandbox.interpreterPrefixes(interpreters))
        if sandbox.level != .off {
            do {
                sandbox.seccompProgram = try SeccompProgram.compile(launcher: launcher)
            } catch {
                throw FunctionHostError("cannot compile the workers' seccomp policy: \(error)")
            }
        }
        layerCache = sandbox.level == .full ? LayerCache(directory: configuration.stateDirectory + "/layers") : nil
        if let layerCache {
            do {
                sandbox.layerRoots = try layerCache.prepare(template.functions.map(\.layers))
            } catch {
                throw FunctionHostError(error.description)
            }
            for directory in Set(template.functions.map(\.codeDirectory)) {
                let links = CodeLinkTargets(codeDirectory: directory)
                sandbox.linkTargets[directory] = links
                warnings += links.warnings
            }
        }
        if sandbox.level == .full, let why = ScratchVolumes.unavailability() {
            warnings.append("workers' /tmp is memory (a tmpfs counted against MemorySize), not disk: \(why)")
            scratchDirectory = nil
        } else if sandbox.level == .full {
            scratchDirectory = configuration.stateDirectory + "/scratch"
            ScratchVolumes.sweep(configuration.stateDirectory + "/scratch")
        } else {
            scratchDirectory = nil
        }
        let environment = ProcessInfo.processInfo.environment
        if template.eventSourceMappings.contains(where: \.external), AWSCredentials.resolve(environment: environment) == nil {
            warnings.append(
                "event sources the template does not define are read from their real service, which needs credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE); none are set, so those mappings do not run")
        }
        self.warnings = warnings
        settings = WorkerSettings(
            launcher: launcher, lifeline: Lifeline.readDescriptor, sandbox: sandbox,
            account: configuration.account, interpreters: interpreters,
            credentials: environment.filter { ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"].contains($0.key) })
    }

    /// Marks the function `debug` names to run under its runtime's debugger, one worker at a time
    /// (the port is the debugger's); returns the line saying where to attach.
    /// Throws when the function is unknown, its runtime has no debugger, or `debugpy` is missing.
    static func attachDebugger(
        _ debug: HostConfiguration.Debugging, to functions: inout [FunctionConfiguration], interpreters: RuntimeInterpreters
    ) throws -> String {
        guard let index = functions.firstIndex(where: { $0.functionName == debug.function || $0.logicalID == debug.function })
        else {
            throw FunctionHostError(
                "--debug: no function named \(debug.function) (have: \(functions.map(\.functionName).joined(separator: ", ")))")
        }
        let function = functions[index]
        switch function.runtime {
        case .provided:
            throw FunctionHostError(
                "--debug-port: \(function.functionName) runs \(function.runtime), which has no debugger fnhost can start; python and nodejs functions can be debugged")
        case .python where !interpreters.canImport("debugpy", runtime: function.runtime):
            throw FunctionHostError(
                "--debug-port: debugging \(function.runtime) needs debugpy, which \(interpreters.interpreter(for: function.runtime) ?? "python3") cannot import; install it with `\(interpreters.interpreter(for: function.runtime) ?? "python3") -m pip install debugpy`")
        case .python, .nodejs:
            break
        }
        functions[index].debugPort = debug.port
        functions[index].reservedConcurrency = 1
        return "\(function.functionName) starts under the debugger: attach to 127.0.0.1:\(debug.port) (\(function.runtime)); its timeout is suspended and it runs one worker at a time"
    }

    func makeSupervisor(logger: Logger) throws -> Supervisor {
        var settings = settings
        if let directory = scratchDirectory {
            settings.scratch = try ScratchVolumes(
                directory: directory + "/" + UUID().uuidString.prefix(8), sizes: Set(catalog.functions.map(\.ephemeralStorage)),
                logger: logger)
        }
        if memory.kind != .rssPolling {
            // Cold starts take a launcher already in its cgroups (joining one waits for an RCU grace period).
            settings.standby = StandbyLaunchers(
                settings: settings, memory: memory, sizes: Set(catalog.functions.map(\.memorySize)), logger: logger)
        }
        return try Supervisor(
            functions: catalog.functions, settings: settings, limits: configuration.limits, memory: memory,
            metricsFactory: configuration.metricsFactory, logDirectory: configuration.stateDirectory + "/logs",
            console: configuration.consoleDescriptor, clock: configuration.clock, logger: logger)
    }

    /// Serves the Invoke API until one of `shutdownSignals` arrives or the task is cancelled;
    /// `onReady` gets the bound port (again after each template reload).
    ///
    /// With ``HostConfiguration/watch``, a changed template that loads replaces the running host
    /// in place: once the invocations in flight have finished, the services stop and start again
    /// on the same port with the new catalog; one that does not load is logged and changes nothing.
    public func serve(
        logger: Logger, shutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        onReady: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let restart = HostRestart(port: configuration.port)
        var host = self
        while let next = try await host.serveUntilReload(
            logger: logger, shutdownSignals: shutdownSignals, restart: restart, onReady: onReady)
        {
            host = next
        }
    }

    /// Runs the services until shutdown (`nil`) or until the template changed into one that loads (the next host).
    private func serveUntilReload(
        logger: Logger, shutdownSignals: [UnixSignal], restart: HostRestart,
        onReady: @escaping @Sendable (Int) async -> Void
    ) async throws -> FunctionHost? {
        var configuration = configuration
        configuration.port = restart.port
        let supervisor = try makeSupervisor(logger: logger)
        let store = try Store.open(
            stateDirectory: configuration.stateDirectory, migrations: [
                AsyncInvocationMigrations.self, QueueMigrations.self, StreamMigrations.self, StreamMappingMigrations.self,
            ])
        let queueEngine = QueueEngine(
            writer: store.writer, account: configuration.account, clock: configuration.clock,
            metricsFactory: configuration.metricsFactory)
        try await queueEngine.ensure(queues)
        let streamEngine = StreamEngine(writer: store.writer, account: configuration.account, clock: configuration.clock)
        try await streamEngine.ensure(streams)
        let eventInvokeConfigs = EventInvokeConfigRegistry(catalog.functions)
        let queue = AsyncInvocationQueue(
            writer: store.writer, catalog: catalog, invoker: supervisor, configs: eventInvokeConfigs,
            account: configuration.account, concurrency: supervisor, queueSender: configuration.queueSender ?? queueEngine,
            clock: configuration.clock, firstRetryDelay: configuration.asyncRetryDelay,
            metricsFactory: configuration.metricsFactory, logger: logger)
        let sources = Self.streamSources(
            embedded: streamEngine, checkpoints: StreamCheckpoints(writer: store.writer),
            failureSender: configuration.queueSender ?? queueEngine, configuration: configuration)
        let mappings = EventSourceMappingService(
            mappings: eventSourceMappings, catalog: catalog, consumer: queueEngine, invoker: supervisor,
            concurrency: supervisor, clock: configuration.clock, account: configuration.account,
            metricsFactory: configuration.metricsFactory, streams: sources, logger: logger)
        let scheduler = ScheduleService(
            schedules: schedules, catalog: catalog, sink: queue, clock: configuration.clock,
            account: configuration.account, metricsFactory: configuration.metricsFactory, logger: logger)
        if let virtual = configuration.clock as? VirtualClock {
            // Advances wait for fires, async events and mapping batches that fall due (fires feed
            // the async queue; its SQS destinations feed mappings).
            virtual.addParticipant(scheduler)
            virtual.addParticipant(queue)
            virtual.addParticipant(mappings)
        }
        let api = InvokeAPI(
            catalog: catalog, invoker: supervisor, asyncQueue: queue, account: configuration.account,
            concurrency: supervisor,
            metrics: { [registry = configuration.metricsRegistry] in
                await queueEngine.refreshMetrics()
                await supervisor.refreshMetrics()
                return registry.emitToBuffer()
            },
            eventInvokeConfigs: eventInvokeConfigs)
        // Provisioned workers are started and initialised before the host reports ready.
        await supervisor.provision()
        let router = api.makeRouter()
        // One POST / for the JSON-protocol services, chosen by X-Amz-Target (SQS answers the rest).
        let sqs = SQSEndpoint(engine: queueEngine, fallbackEndpoint: "http://\(configuration.host):\(configuration.port)")
        let kinesis = KinesisEndpoint(engine: streamEngine)
        router.post("/") { request, _ in
            KinesisEndpoint.accepts(request) ? await kinesis.handle(request) : await sqs.handle(request)
        }
        HostClockEndpoint(clock: configuration.clock).addRoutes(to: router)
        EventSourceMappingAPI(
            api: api, control: mappings, queues: queueEngine, streams: streamEngine, externalQueues: sources.externalQueues,
            externalKinesis: sources.externalKinesis, dynamoDBStreams: sources.dynamoDBStreams
        ).addRoutes(to: router)
        let app = Application(
            router: router, server: .servePort(limits: configuration.servePort, api: api),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                restart.port = port
                await onReady(port)
            },
            logger: logger)
        // The supervisor is listed last so it is shut down first: Ctrl-C kills workers at once and
        // in-flight requests end with the runtime's exit error instead of holding shutdown open.
        // The queue's sentinel goes first of all, so those cut-short attempts are not counted as failures.
        // The SQS queue engine sits after the server so it stops before it: parked long polls end at once.
        // Event-source mappings stop before the supervisor: pollers end before workers do.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: queue), .init(service: app), .init(service: queueEngine), .init(service: supervisor),
            .init(service: mappings), .init(service: scheduler), .init(service: queue.shutdownSentinel),
        ]
        if configuration.watch {
            let plan = ReloadPlan(
                templates: templateFiles, functions: catalog.functions,
                ignoring: [URL(fileURLWithPath: configuration.stateDirectory).standardizedFileURL.path])
            let reloader = HotReloader(
                plan: plan, supervisor: supervisor, layerCache: layerCache,
                layerLists: catalog.functions.map(\.layers), logger: logger,
                longestTimeout: .seconds(catalog.functions.map(\.timeout).max() ?? 0),
                loadTemplate: { [configuration] in
                    var next = configuration
                    next.port = restart.port
                    let host = try FunctionHost(configuration: next)
                    restart.restart(with: host)
                    return host.warnings
                })
            // After the supervisor: stopped before it, so no drain races the shutdown. When it
            // returns (the template changed and loads), the group shuts down for the restart.
            services.append(.init(service: reloader, successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: shutdownSignals, logger: logger))
        try await group.run()
        return restart.takeNext()
    }

    /// The sources mappings read: the embedded stream, and clients of the real services (endpoints
    /// and credentials from the standard settings) for queues and streams the template does not define,
    /// with shard leases in DynamoDB for the external streams.
    static func streamSources(
        embedded: StreamEngine, checkpoints: StreamCheckpoints, failureSender: any QueueSender,
        configuration: HostConfiguration
    ) -> StreamSources {
        let region = configuration.account.region
        var sources = StreamSources(reader: embedded, checkpoints: checkpoints, failureSender: failureSender)
        let environment = ProcessInfo.processInfo.environment
        guard let credentials = AWSCredentials.resolve(environment: environment) else { return sources }
        func client(_ service: AWSServiceEndpoint, target: String, contentType: String) -> AWSJSONClient {
            AWSJSONClient(
                service: service, credentials: credentials, defaultRegion: region, environment: environment,
                targetPrefix: target, contentType: contentType)
        }
        sources.externalQueues = ExternalQueueConsumer(
            client: client(.sqs, target: "AmazonSQS.", contentType: "application/x-amz-json-1.0"))
        sources.externalKinesis = ExternalStreamReader(
            client: client(.kinesis, target: "Kinesis_20131202.", contentType: "application/x-amz-json-1.1"),
            service: .kinesis)
        sources.dynamoDBStreams = ExternalStreamReader(
            client: client(.dynamoDBStreams, target: "DynamoDBStreams_20120810.", contentType: "application/x-amz-json-1.0"),
            service: .dynamoDBStreams)
        sources.leasing = ShardLeasing(
            store: DynamoDBLeaseStore(
                client: client(.dynamoDB, target: "DynamoDB_20120810.", contentType: "application/x-amz-json-1.0"),
                timeout: .milliseconds(
                    max(1000, ShardLeasing.renewInterval(leaseDuration: configuration.leaseDuration)))),
            owner: ShardLeasing.ownerName, leaseDuration: configuration.leaseDuration,
            tablePrefix: configuration.leaseTablePrefix, clock: WallClock())
        return sources
    }

    /// Runs one invocation of `name` in a fresh worker and stops it again (`fnhost invoke` without `--endpoint`).
    public func invokeOnce(_ name: String, payload: ByteBuffer, logger: Logger) async throws -> InvocationResult {
        guard let entry = catalog.entry(named: name) else {
            throw FunctionHostError(
                "no function named \(name) in \(configuration.templatePath) (have: \(catalog.functions.map(\.functionName).joined(separator: ", ")))")
        }
        if payload.readableBytes > 0 {
            do {
                try StrictJSON.validate(payload)
            } catch {
                throw FunctionHostError("the event is not JSON (\(error)); Lambda only hands functions JSON payloads")
            }
        }
        let supervisor = try makeSupervisor(logger: logger)
        let function = entry.configuration
        let request = InvocationRequest(
            requestID: InvocationIdentifiers.requestID(), payload: payload.readableBytes == 0 ? ByteBuffer(string: "{}") : payload,
            invokedFunctionARN: configuration.account.functionARN(function.functionName),
            traceID: InvocationIdentifiers.traceHeader())
        let result = try await supervisor.invoke(function, request)
        await supervisor.stop()
        return result
    }
}

/// A start-up failure of the host that is not a template error (missing launcher, unknown function).
public struct FunctionHostError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
