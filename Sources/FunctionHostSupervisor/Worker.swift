import FunctionHostCore
import FunctionHostRuntimeAPI
import FunctionHostRuntimeBootstraps
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// One execution environment: a worker process, its Runtime API listener and its log stream.
///
/// It runs one invocation at a time (the pool guarantees it). After a timeout, a crash or an
/// init failure it is dead and ``invoke(_:)`` reports it as not reusable.
final class Worker: Sendable {
    let function: FunctionConfiguration
    private let server: RuntimeAPIServer
    private let process: WorkerProcess
    private let output: WorkerOutput
    private let spawnedAt: ContinuousClock.Instant
    private let initialized = Atomic<Bool>(false)
    private let resources: (any WorkerResources)?
    /// The disk-backed `/tmp` and where it goes back once the process tree is gone.
    private let scratch: (volume: ScratchVolumes.Volume, owner: ScratchVolumes)?
    private let report = Mutex<InvocationReport?>(nil)
    /// Where the worker's Runtime API connections run, and its timers.
    let eventLoop: any EventLoop

    /// Lambda's limit for an on-demand init phase.
    static let initTimeout = Duration.seconds(10)
    /// Init and invocation limit of a worker under a debugger: the function's timeout is suspended.
    static let debuggingTimeout = Duration.seconds(24 * 3600)

    private init(
        function: FunctionConfiguration, server: RuntimeAPIServer, process: WorkerProcess, output: WorkerOutput,
        spawnedAt: ContinuousClock.Instant, resources: (any WorkerResources)?,
        scratch: (volume: ScratchVolumes.Volume, owner: ScratchVolumes)?, eventLoop: any EventLoop
    ) {
        self.eventLoop = eventLoop
        self.resources = resources
        self.scratch = scratch
        self.function = function
        self.server = server
        self.process = process
        self.output = output
        self.spawnedAt = spawnedAt
    }

    /// Binds a Runtime API listener and spawns the function's process through the launcher.
    static func start(
        _ function: FunctionConfiguration, settings: WorkerSettings, sink: FunctionLogSink, logger: Logger,
        options: WorkerLaunchOptions = WorkerLaunchOptions()
    ) async throws -> Worker {
        // The worker's Runtime API connections and its deadlines share one event loop.
        let eventLoop = WorkerPlacement.eventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        let mailbox = RuntimeMailbox(timers: eventLoop)
        let scratch = options.scratch.flatMap { volume in settings.scratch.map { (volume: volume, owner: $0) } }
        let server: RuntimeAPIServer
        do {
            server = try await RuntimeAPIServer.start(mailbox: mailbox, on: eventLoop, logger: logger)
        } catch {
            options.abandonLauncher()
            if let scratch { scratch.owner.release(scratch.volume) }
            throw error
        }
        let output = WorkerOutput(sink: sink)
        let taskRoot = settings.sandbox.taskRoot(for: function)
        var environment = WorkerEnvironment(
            function: function, account: settings.account, runtimeAPIPort: server.port, taskRoot: taskRoot,
            interpreterDirectories: settings.interpreters.binDirectories, credentials: settings.credentials)
        environment.initializationType = options.initializationType
        let command = settings.sandbox.command(for: function, interpreters: settings.interpreters)
        // A standby launcher already joined its cgroups and read the seccomp policy when it was spawned.
        let sandboxArguments = settings.sandbox.launchArguments(
            for: function, tmpMount: options.scratch?.descriptor, seccomp: options.standby == nil)
        let workerArguments = sandboxArguments + ["--"] + command
        let onExit: @Sendable (ExitReason) -> Void = { reason in
            output.recordExit(options.resources?.wasOutOfMemory() == true ? .outOfMemory : reason)
            mailbox.close()
        }
        let sandboxed = settings.sandbox.level == .full
        options.resources?.initBegins()
        // Init Duration counts from here: the spawn, or the order to a launcher waiting in its cgroups.
        let spawnedAt = ContinuousClock.now
        do {
            let process: WorkerProcess
            if let standby = options.standby {
                process = WorkerProcess.adopt(
                    standby, arguments: workerArguments, environment: environment.variables,
                    passing: options.scratch?.descriptor, sandboxed: sandboxed, onLine: { output.emit($0) },
                    onExit: onExit)
            } else {
                let cgroupArguments = options.resources?.launchArguments ?? []
                process = try WorkerProcess.start(
                    launcher: settings.launcher, arguments: cgroupArguments + workerArguments,
                    environment: environment.variables, lifeline: settings.lifeline,
                    inherited: settings.sandbox.inheritedDescriptors + (options.scratch.map { [$0.descriptor] } ?? []),
                    sandboxed: sandboxed, onLine: { output.emit($0) }, onExit: onExit)
            }
            server.admitOwner(uid: settings.sandbox.workerUID(launcherPID: process.pid))
            options.resources?.attach(process)
            return Worker(
                function: function, server: server, process: process, output: output, spawnedAt: spawnedAt,
                resources: options.resources, scratch: scratch, eventLoop: eventLoop)
        } catch {
            options.abandonLauncher()
            if let scratch { scratch.owner.release(scratch.volume) }
            await server.stop()
            throw InvokeError(.spawnFailed, "\(error)")
        }
    }

    /// Runs one invocation; `reusable` is false when the environment must be replaced.
    /// `initialized` is called once the init phase this invocation waits for has ended (its
    /// runtime's first `/next`, or the failure); not at all on an initialised worker.
    func invoke(
        _ request: InvocationRequest, initialized: (@Sendable () -> Void)? = nil
    ) async -> (result: InvocationResult, reusable: Bool) {
        await withCheckedContinuation { waiter in
            invoke(request, initialized: initialized) { result, reusable in waiter.resume(returning: (result, reusable)) }
        }
    }

    /// Told how an invocation ended and whether its environment may serve another.
    typealias Completion = @Sendable (_ result: InvocationResult, _ reusable: Bool) -> Void

    /// Runs one invocation and calls `completion` once when it ends. An initialised worker's
    /// invocation takes no thread hop of its own: the event leaves from the caller's thread and
    /// `completion` runs on the worker's event loop, which received the answer.
    func invoke(
        _ request: InvocationRequest, initialized initEnded: (@Sendable () -> Void)? = nil, completion: @escaping Completion
    ) {
        if request.wantsLogTail { output.beginCapture() }
        guard !initialized.load(ordering: .relaxed) else {
            return run(request, initDuration: nil, completion: completion)
        }
        whenReady(requestID: request.requestID) { [self] failure in
            let initDuration = spawnedAt.duration(to: .now).milliseconds
            initEnded?()
            guard let failure else {
                initialized.store(true, ordering: .relaxed)
                return run(request, initDuration: initDuration, completion: completion)
            }
            output.emit(LambdaLogFormat.initReport(duration: initDuration, status: failure.status))
            output.emit(LambdaLogFormat.start(requestID: request.requestID))
            // What the cgroup saw, if there is one; a process that already exited has nothing left to read.
            let maxMemory = resources?.peakMegabytes() ?? process.peakMemoryMegabytes()
            completion(finish(request, .failure(failure), duration: 0, initDuration: initDuration, maxMemory: maxMemory), false)
        }
    }

    private func run(_ request: InvocationRequest, initDuration: Double?, completion: @escaping Completion) {
        output.emit(LambdaLogFormat.start(requestID: request.requestID))
        let timeout = function.debugPort == nil ? .seconds(function.timeout) : Self.debuggingTimeout
        server.mailbox.invoke(request, timeout: timeout) { [self] outcome in
            complete(request, outcome, initDuration: initDuration, completion: completion)
        }
    }

    private func complete(
        _ request: InvocationRequest, _ outcome: RuntimeMailbox.Outcome, initDuration: Double?, completion: @escaping Completion
    ) {
        // Sampled before a timeout kills the tree; after an exit there is nothing left to sample.
        let maxMemory = resources?.peakMegabytes() ?? process.peakMemoryMegabytes()
        let duration = outcome.deliveredAt.map { $0.duration(to: outcome.finishedAt).milliseconds } ?? 0
        let ending: Ending
        let reusable: Bool
        switch outcome.kind {
        case .response(let payload, let contentType):
            (ending, reusable) = (.success(payload, contentType), true)
        case .error(let payload, _):
            (ending, reusable) = (.functionError(payload), true)
        case .responseTooLarge:
            (ending, reusable) = (.failure(PlatformFailure(.responseTooLarge)), true)
        case .timedOut:
            process.kill()
            output.emit(LambdaLogFormat.timedOut(requestID: request.requestID, seconds: function.timeout))
            let error = FunctionErrorPayload.timeout(requestID: request.requestID, seconds: function.timeout)
            (ending, reusable) = (.failure(PlatformFailure(error, status: .timeout)), false)
        case .truncated:
            process.kill()
            let error = FunctionErrorPayload.truncatedResponse(requestID: request.requestID)
            (ending, reusable) = (.failure(PlatformFailure(error)), false)
        case .closed:
            let reason = output.exitReason ?? .signaled(9)
            output.emit(LambdaLogFormat.runtimeExited(requestID: request.requestID, reason: reason))
            output.emit(reason.errorType)
            (ending, reusable) = (.failure(PlatformFailure(.exited(requestID: request.requestID, reason: reason))), false)
        }
        let finishing: @Sendable () -> Void = { [self] in
            process.flushPartialLine()
            completion(finish(request, ending, duration: duration, initDuration: initDuration, maxMemory: maxMemory), reusable)
        }
        if reusable { process.drainOutput(on: eventLoop, then: finishing) } else { finishing() }
    }

    /// False once the process tree has exited (a runtime may exit between invocations).
    var isAlive: Bool { output.exitReason == nil }

    /// True once the memory limit has killed the process tree.
    var exitedOutOfMemory: Bool { output.exitReason == .outOfMemory }

    /// Kills the process tree now; ``stop()`` does the rest.
    func kill() { process.kill() }

    /// Kills the process tree, closes the listener, and waits (at most a second) until the tree is reaped.
    func stop() async {
        process.kill()
        await server.stop()
        let deadline = ContinuousClock.now.advanced(by: .seconds(1))
        while isAlive, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        resources?.release()
        if let scratch { scratch.owner.release(scratch.volume) }
    }

    /// The figures of the last finished invocation (its REPORT line).
    var lastReport: InvocationReport? { report.withLock { $0 } }

    /// Runs the init phase now (provisioned concurrency): `nil` once the runtime asked for its
    /// first event, so no invocation of this worker reports an `Init Duration`; else why it failed.
    func initialize() async -> FunctionErrorPayload? {
        let failure = await withCheckedContinuation { waiter in whenReady(requestID: "") { waiter.resume(returning: $0) } }
        if let failure {
            return FunctionErrorPayload(errorType: failure.errorType, errorMessage: String(buffer: failure.payload))
        }
        initialized.store(true, ordering: .relaxed)
        return nil
    }

    /// Calls `then` with `nil` once the runtime called `/next`; otherwise with why it never will
    /// (an init timeout kills the tree).
    private func whenReady(requestID: String, then: @escaping @Sendable (PlatformFailure?) -> Void) {
        let timedOut = Atomic<Bool>(false)
        let limit = function.debugPort == nil ? Self.initTimeout : Self.debuggingTimeout
        let timer = eventLoop.scheduleTask(in: .nanoseconds(Int64(limit.components.seconds) * 1_000_000_000)) { [process] in
            timedOut.store(true, ordering: .relaxed)
            process.kill()
        }
        server.mailbox.whenReady { [self] readiness in
            timer.cancel()
            resources?.initEnded()
            switch readiness {
            case .ready:
                then(nil)
            case .initError(let payload, let errorType):
                process.kill()
                then(PlatformFailure(payload: payload, errorType: RuntimeErrorType.normalize(errorType)))
            case .closed where timedOut.load(ordering: .relaxed):
                then(
                    PlatformFailure(
                        .init(
                            errorType: "Sandbox.Timedout",
                            errorMessage: "Init phase timed out after \(Int(Self.initTimeout.components.seconds)).00 seconds"),
                        status: .timeout))
            case .closed:
                if let message = output.launchFailure {
                    return then(PlatformFailure(.init(errorType: "Runtime.InvalidEntrypoint", errorMessage: message)))
                }
                then(PlatformFailure(.exited(requestID: requestID, reason: output.exitReason ?? .signaled(9))))
            }
        }
    }

    private func finish(
        _ request: InvocationRequest, _ ending: Ending, duration: Double, initDuration: Double?, maxMemory: Int?
    ) -> InvocationResult {
        report.withLock {
            $0 = InvocationReport(
                duration: duration, initDuration: initDuration, maxMemory: maxMemory,
                failed: { if case .success = ending { false } else { true } }())
        }
        output.emit(
            LambdaLogFormat.end(requestID: request.requestID),
            LambdaLogFormat.report(
                requestID: request.requestID, duration: duration, memorySize: function.memorySize,
                maxMemoryUsed: maxMemory, initDuration: initDuration, status: ending.status))
        let tail = output.endCapture()
        switch ending {
        case .success(let payload, let contentType):
            return InvocationResult(payload: payload, contentType: contentType, logTail: tail)
        case .functionError(let payload):
            return InvocationResult(payload: payload, functionError: "Unhandled", logTail: tail)
        case .failure(let failure):
            return InvocationResult(payload: failure.payload, functionError: "Unhandled", logTail: tail)
        }
    }
}

/// How an invocation ended, for the caller's payload and the REPORT line.
private enum Ending: Sendable {
    case success(ByteBuffer, String)
    case functionError(ByteBuffer)
    case failure(PlatformFailure)

    var status: LambdaLogFormat.Status {
        switch self {
        case .success, .functionError: .success
        case .failure(let failure): failure.status
        }
    }
}

/// A failure the platform reports for the function: the caller's payload plus the REPORT status.
struct PlatformFailure: Sendable {
    var payload: ByteBuffer
    var errorType: String
    var status: LambdaLogFormat.Status

    init(_ error: FunctionErrorPayload, status: LambdaLogFormat.Status? = nil) {
        self.payload = error.buffer
        self.errorType = error.errorType
        self.status = status ?? .error(type: error.errorType)
    }

    init(payload: ByteBuffer, errorType: String) {
        self.payload = payload
        self.errorType = errorType
        self.status = .error(type: errorType)
    }
}

/// RAPID's normalisation of `Lambda-Runtime-Function-Error-Type` for logs.
enum RuntimeErrorType {
    static func normalize(_ value: String?) -> String {
        guard let value else { return "Runtime.Unknown" }
        let parts = value.split(separator: ".", maxSplits: 1)
        if parts.count == 2, ["Runtime", "Function"].contains(parts[0]), let first = parts[1].first,
            first.isUppercase, parts[1].allSatisfy({ $0.isLetter && $0.isASCII })
        {
            return value
        }
        return value.hasPrefix("Function.") ? "Function.Unknown" : "Runtime.Unknown"
    }
}

extension Duration {
    var milliseconds: Double {
        let parts = components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
    }
}
