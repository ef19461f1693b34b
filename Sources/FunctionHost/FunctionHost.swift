import FunctionHostCore
import FunctionHostEventSources
import FunctionHostInvokeAPI
import FunctionHostQueues
import FunctionHostStore
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
    /// The template's event-source mappings, started with the host.
    public let eventSourceMappings: [EventSourceMapping]
    /// The template's schedules (rules and Scheduler schedules targeting its functions).
    public let schedules: [ScheduleDefinition]
    /// One line each, to print at start-up: skipped resources, interpreter fallbacks, missing protections.
    public let warnings: [String]
    /// How workers are held to their `MemorySize` (probed once; see ``MemoryEnforcement``).
    public let memory: MemoryEnforcement
    private let settings: WorkerSettings

    /// Loads and validates the template and probes the machine. Throws ``TemplateError`` or ``FunctionHostError``.
    public init(configuration: HostConfiguration) throws {
        self.configuration = configuration
        var loader = TemplateLoader(account: configuration.account, parameterOverrides: configuration.parameterOverrides)
        loader.queueEndpoint = "http://\(configuration.host):\(configuration.port)"
        let template = try loader.load(path: configuration.templatePath)
        catalog = FunctionCatalog(template.functions)
        queues = template.queues
        eventSourceMappings = template.eventSourceMappings
        schedules = template.schedules
        try Supervisor.checkReservations(template.functions, limits: configuration.limits)
        guard let launcher = LauncherLocation.path() else {
            throw FunctionHostError(
                "fnhost-launch was not found beside the fnhost executable; build it with `swift build` (or set FNHOST_LAUNCHER)")
        }
        let interpreters = RuntimeInterpreters(
            resolving: template.functions.map(\.runtime),
            searchPath: ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let sandboxCapabilities = SandboxCapabilities.probe(launcher: launcher)
        var warnings = template.warnings + interpreters.warnings
        memory = MemoryEnforcement.probe(preferred: configuration.memoryEnforcement, logger: Logger(label: "fnhost"))
        if let warning = memory.warning { warnings.append(warning) }
        if let warning = sandboxCapabilities.warning { warnings.append(warning) }
        var sandbox = WorkerSandbox(
            level: sandboxCapabilities.level, exposedDirectories: WorkerSandbox.interpreterPrefixes(interpreters))
        if sandbox.level == .full {
            do {
                sandbox.layerRoots = try LayerCache(directory: configuration.stateDirectory + "/layers")
                    .prepare(template.functions.map(\.layers))
            } catch {
                throw FunctionHostError(error.description)
            }
        }
        self.warnings = warnings
        let environment = ProcessInfo.processInfo.environment
        settings = WorkerSettings(
            launcher: launcher, lifeline: Lifeline.readDescriptor, sandbox: sandbox,
            account: configuration.account, interpreters: interpreters,
            credentials: environment.filter { ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"].contains($0.key) })
    }

    func makeSupervisor(logger: Logger) throws -> Supervisor {
        try Supervisor(
            functions: catalog.functions, settings: settings, limits: configuration.limits, memory: memory,
            metricsFactory: configuration.metricsFactory, logDirectory: configuration.stateDirectory + "/logs",
            console: configuration.consoleDescriptor, clock: configuration.clock, logger: logger)
    }

    /// Serves the Invoke API until one of `shutdownSignals` arrives or the task is cancelled;
    /// `onReady` gets the bound port.
    public func serve(
        logger: Logger, shutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        onReady: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let supervisor = try makeSupervisor(logger: logger)
        let store = try Store.open(
            stateDirectory: configuration.stateDirectory, migrations: [AsyncInvocationMigrations.self, QueueMigrations.self])
        let queueEngine = QueueEngine(
            writer: store.writer, account: configuration.account, clock: configuration.clock,
            metricsFactory: configuration.metricsFactory)
        try await queueEngine.ensure(queues)
        let eventInvokeConfigs = EventInvokeConfigRegistry(catalog.functions)
        let queue = AsyncInvocationQueue(
            writer: store.writer, catalog: catalog, invoker: supervisor, configs: eventInvokeConfigs,
            account: configuration.account, concurrency: supervisor, queueSender: configuration.queueSender ?? queueEngine,
            clock: configuration.clock, firstRetryDelay: configuration.asyncRetryDelay,
            metricsFactory: configuration.metricsFactory, logger: logger)
        let mappings = EventSourceMappingService(
            mappings: eventSourceMappings, catalog: catalog, consumer: queueEngine, invoker: supervisor,
            concurrency: supervisor, clock: configuration.clock, account: configuration.account,
            metricsFactory: configuration.metricsFactory, logger: logger)
        let scheduler = ScheduleService(
            schedules: schedules, catalog: catalog, sink: queue, clock: configuration.clock,
            account: configuration.account, metricsFactory: configuration.metricsFactory, logger: logger)
        if let virtual = configuration.clock as? VirtualClock {
            // Advances wait for fires and async events that fall due (the queue last: fires feed it).
            virtual.addParticipant(scheduler)
            virtual.addParticipant(queue)
        }
        let api = InvokeAPI(
            catalog: catalog, invoker: supervisor, asyncQueue: queue, account: configuration.account,
            concurrency: supervisor,
            metrics: { [registry = configuration.metricsRegistry] in
                queueEngine.refreshMetrics()
                return registry.emitToBuffer()
            },
            eventInvokeConfigs: eventInvokeConfigs)
        // Provisioned workers are started and initialised before the host reports ready.
        await supervisor.provision()
        let router = api.makeRouter()
        SQSEndpoint(engine: queueEngine, fallbackEndpoint: "http://\(configuration.host):\(configuration.port)")
            .addRoutes(to: router)
        HostClockEndpoint(clock: configuration.clock).addRoutes(to: router)
        EventSourceMappingAPI(api: api, control: mappings, queues: queueEngine).addRoutes(to: router)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? 0) },
            logger: logger)
        // The supervisor is listed last so it is shut down first: Ctrl-C kills workers at once and
        // in-flight requests end with the runtime's exit error instead of holding shutdown open.
        // The queue's sentinel goes first of all, so those cut-short attempts are not counted as failures.
        // The SQS queue engine sits after the server so it stops before it: parked long polls end at once.
        // Event-source mappings stop before the supervisor: pollers end before workers do.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: queue), .init(service: app), .init(service: queueEngine), .init(service: supervisor),
                    .init(service: mappings), .init(service: scheduler), .init(service: queue.shutdownSentinel),
                ],
                gracefulShutdownSignals: shutdownSignals, logger: logger))
        try await group.run()
    }

    /// Runs one invocation of `name` in a fresh worker and stops it again (`fnhost invoke` without `--endpoint`).
    public func invokeOnce(_ name: String, payload: ByteBuffer, logger: Logger) async throws -> InvocationResult {
        guard let entry = catalog.entry(named: name) else {
            throw FunctionHostError(
                "no function named \(name) in \(configuration.templatePath) (have: \(catalog.functions.map(\.functionName).joined(separator: ", ")))")
        }
        if payload.readableBytes > 0,
            (try? JSONSerialization.jsonObject(with: Data(payload.readableBytesView), options: .fragmentsAllowed)) == nil
        {
            throw FunctionHostError("the event is not JSON; Lambda only hands functions JSON payloads")
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
