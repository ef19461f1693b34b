import CoreMetrics
import Metrics

/// The host's metrics, created once per function with bounded dimensions (the function name,
/// never a request id). Made through the factory given (tests pass a registry's factory; the
/// CLI passes the bootstrapped one).
struct SupervisorMetrics: Sendable {
    /// Metric names, for the Prometheus exposition.
    enum Name {
        static let invocations = "fnhost_invocations_total"
        static let errors = "fnhost_errors_total"
        static let throttles = "fnhost_throttles_total"
        static let coldStarts = "fnhost_cold_starts_total"
        static let duration = "fnhost_invocation_duration_seconds"
        static let initDuration = "fnhost_init_duration_seconds"
        static let concurrentExecutions = "fnhost_concurrent_executions"
        static let accountConcurrentExecutions = "fnhost_account_concurrent_executions"
        static let workers = "fnhost_workers"
        static let outOfMemory = "fnhost_out_of_memory_kills_total"
    }

    let accountConcurrency: Meter
    private let functions: [String: FunctionMetrics]

    init(functionNames: [String], factory: any MetricsFactory) {
        accountConcurrency = Meter(label: Name.accountConcurrentExecutions, factory: factory)
        accountConcurrency.set(0)
        var functions: [String: FunctionMetrics] = [:]
        for name in functionNames { functions[name] = FunctionMetrics(functionName: name, factory: factory) }
        self.functions = functions
    }

    subscript(functionName: String) -> FunctionMetrics? { functions[functionName] }
}

/// One function's metrics.
struct FunctionMetrics: Sendable {
    let invocations: Counter
    let errors: Counter
    let throttles: Counter
    let coldStarts: Counter
    let outOfMemory: Counter
    let duration: Metrics.Timer
    let initDuration: Metrics.Timer
    let concurrency: Meter
    let warmWorkers: Meter
    let busyWorkers: Meter

    init(functionName: String, factory: any MetricsFactory) {
        typealias Name = SupervisorMetrics.Name
        let function = [("function_name", functionName)]
        invocations = Counter(label: Name.invocations, dimensions: function, factory: factory)
        errors = Counter(label: Name.errors, dimensions: function, factory: factory)
        throttles = Counter(label: Name.throttles, dimensions: function, factory: factory)
        coldStarts = Counter(label: Name.coldStarts, dimensions: function, factory: factory)
        outOfMemory = Counter(label: Name.outOfMemory, dimensions: function, factory: factory)
        duration = Metrics.Timer(label: Name.duration, dimensions: function, factory: factory)
        initDuration = Metrics.Timer(label: Name.initDuration, dimensions: function, factory: factory)
        concurrency = Meter(label: Name.concurrentExecutions, dimensions: function, factory: factory)
        warmWorkers = Meter(label: Name.workers, dimensions: function + [("state", "warm")], factory: factory)
        busyWorkers = Meter(label: Name.workers, dimensions: function + [("state", "busy")], factory: factory)
        for meter in [concurrency, warmWorkers, busyWorkers] { meter.set(0) }
    }
}
