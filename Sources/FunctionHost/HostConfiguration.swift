import FunctionHostCore
import FunctionHostEventSources
import FunctionHostInvokeAPI
import FunctionHostSupervisor
import Prometheus

/// Everything `fnhost serve` and `fnhost invoke` are configured with, snapshotted once.
public struct HostConfiguration: Sendable {
    public var templatePath: String
    public var host: String
    public var port: Int
    public var stateDirectory: String
    public var account: AccountContext
    public var parameterOverrides: [String: String]
    /// `AWS::StackName` (`--stack-name`).
    public var stackName = "local"
    /// A function to run under its runtime's debugger (`--debug FUNCTION --debug-port PORT`).
    public struct Debugging: Sendable {
        public var function: String
        public var port: Int
        public init(function: String, port: Int) {
            self.function = function
            self.port = port
        }
    }
    public var debug: Debugging?
    /// Hot reload: watch code, layers and the template while serving (`--no-watch` turns it off).
    public var watch = false
    /// `--env-vars FILE.json`, read.
    public var environmentOverrides = EnvironmentOverrides()
    /// Where function logs are echoed: 1 (stdout) for `serve`, 2 (stderr) for a local `invoke`.
    public var consoleDescriptor: Int32
    /// Account-wide concurrency limit and idle timeout (`--max-concurrency`, `--idle-timeout`).
    public var limits = HostLimits()
    /// How long and how many clients may hold the serve port (`--client-timeout`, `--max-connections`).
    public var servePort = ServePortLimits()
    /// Memory enforcement to use (`--memory-enforcement`); `nil` picks the strongest available.
    public var memoryEnforcement: MemoryEnforcement.Kind?
    /// Seconds before the first retry of a failed `Event` invocation (`--async-retry-delay`); the second waits twice as long.
    public var asyncRetryDelay: Double = 60
    /// Milliseconds without renewal after which another host takes a shard lease of an external
    /// stream (`--lease-duration`); leases run on real time, whatever ``clock`` is.
    public var leaseDuration: Int64 = ShardLeasing.defaultLeaseDuration
    /// The start of the lease tables' names (`--lease-table-prefix`).
    public var leaseTablePrefix = ShardLeasing.defaultTablePrefix
    /// The host's one clock (``HostClock``): real time, or a ``VirtualClock`` (`--virtual-clock`) that
    /// moves only through the clock control route. A running function's own timeout ignores it.
    public var clock: any HostClock = WallClock()
    /// Where SQS destinations and dead-letter queues of async invocations are sent; `nil` until a queue engine is wired in.
    public var queueSender: (any QueueSender)? = nil
    /// The registry `GET /metrics` renders; the host's own metrics are made in it.
    public var metricsRegistry = PrometheusCollectorRegistry()

    /// A factory on ``metricsRegistry`` with the host's histogram buckets.
    public var metricsFactory: PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: metricsRegistry)
        let buckets: [Duration] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(900),
        ]
        factory.defaultDurationHistogramBuckets = buckets
        return factory
    }

    public init(
        templatePath: String = "template.yaml", host: String = "127.0.0.1", port: Int = 3001,
        stateDirectory: String = ".fnhost", account: AccountContext = AccountContext(),
        parameterOverrides: [String: String] = [:], consoleDescriptor: Int32 = 1
    ) {
        self.templatePath = templatePath
        self.host = host
        self.port = port
        self.stateDirectory = stateDirectory
        self.account = account
        self.parameterOverrides = parameterOverrides
        self.consoleDescriptor = consoleDescriptor
    }

    var logDirectory: String { stateDirectory + "/logs" }
}
