import Foundation

/// What a run measured: the `--json` document, the input of the live view's final lines, of
/// `--fail-on` and of the HTML report, and (read back from a file) the `--compare` baseline.
///
/// Invariant: `completed + errors + throttles + transportErrors == requests`. Latencies are
/// milliseconds over every request that got an HTTP answer, each timed from its intended start.
public struct LoadSummary: Decodable, Sendable, Equatable {
    /// Latency percentiles in milliseconds; `nil` when nothing answered.
    public struct Latency: Decodable, Sendable, Equatable {
        public var min, p50, p90, p99, p999, max, mean, stdev: Double?
    }

    /// Init durations of the cold starts the host reported, in milliseconds.
    public struct InitDuration: Decodable, Sendable, Equatable {
        public var p50, p99, max: Double?
    }

    /// One second of the run, by completion time.
    public struct Second: Decodable, Sendable, Equatable {
        public var t: Int
        public var completed = 0
        public var errors = 0
        public var throttles = 0
        public var transportErrors = 0
        public var coldStarts = 0
        /// Requests started but not answered, sampled at the end of the second.
        public var inFlight = 0
        public var p50: Double?
        public var p99: Double?
        public var max: Double?

        public init(t: Int) { self.t = t }

        public var answered: Int { completed + errors + throttles + transportErrors }

        enum CodingKeys: String, CodingKey {
            case t, completed, errors, throttles
            case transportErrors = "transport_errors"
            case coldStarts = "cold_starts"
            case inFlight = "in_flight"
            case p50, p99, max
        }
    }

    /// A point of the latency distribution: the latency (ms) at or below which `percentile` % of requests answered.
    public struct Point: Decodable, Sendable, Equatable {
        public var percentile: Double
        public var ms: Double
    }

    public var function: String
    public var endpoint: String
    public var mode: String
    /// Clients (`concurrency`) or arrivals per second (`rate`) at full load.
    public var target: Double
    public var requests: Int
    public var completed: Int
    public var errors: Int
    public var throttles: Int
    public var transportErrors: Int
    /// `nil` when the host did not say (no `Tail` log and no `/metrics`).
    public var coldStarts: Int?
    public var durationS: Double
    public var throughputRPS: Double
    public var latency: Latency
    public var initDuration: InitDuration
    public var errorSamples: [String]
    /// The run stopped early on Ctrl-C.
    public var interrupted: Bool
    /// Things the reader must know to trust the figures (the generator fell behind, ...).
    public var warnings: [String]
    public var distribution: [Point]
    public var series: [Second]

    enum CodingKeys: String, CodingKey {
        case function, endpoint, mode, target, requests, completed, errors, throttles
        case transportErrors = "transport_errors"
        case coldStarts = "cold_starts"
        case durationS = "duration_s"
        case throughputRPS = "throughput_rps"
        case latency = "latency_ms"
        case initDuration = "init_duration_ms"
        case errorSamples = "error_samples"
        case interrupted, warnings, distribution, series
    }

    /// The document `--json` prints: one line of JSON, keys in the documented order, unknown figures as `null`.
    public func jsonText() -> String {
        var json = JSONWriter()
        json.object {
            $0.field("function", function)
            $0.field("endpoint", endpoint)
            $0.field("mode", mode)
            $0.field("target", target)
            $0.field("requests", requests)
            $0.field("completed", completed)
            $0.field("errors", errors)
            $0.field("throttles", throttles)
            $0.field("transport_errors", transportErrors)
            $0.field("cold_starts", coldStarts)
            $0.field("duration_s", durationS)
            $0.field("throughput_rps", throughputRPS)
            $0.object("latency_ms") {
                $0.field("min", latency.min)
                $0.field("p50", latency.p50)
                $0.field("p90", latency.p90)
                $0.field("p99", latency.p99)
                $0.field("p999", latency.p999)
                $0.field("max", latency.max)
                $0.field("mean", latency.mean)
                $0.field("stdev", latency.stdev)
            }
            $0.object("init_duration_ms") {
                $0.field("p50", initDuration.p50)
                $0.field("p99", initDuration.p99)
                $0.field("max", initDuration.max)
            }
            $0.field("error_samples", errorSamples)
            $0.field("interrupted", interrupted)
            $0.field("warnings", warnings)
            $0.array("distribution", distribution) { json, point in
                json.field("percentile", point.percentile)
                json.field("ms", point.ms)
            }
            $0.array("series", series) { json, second in
                json.field("t", second.t)
                json.field("completed", second.completed)
                json.field("errors", second.errors)
                json.field("throttles", second.throttles)
                json.field("transport_errors", second.transportErrors)
                json.field("cold_starts", second.coldStarts)
                json.field("in_flight", second.inFlight)
                json.field("p50", second.p50)
                json.field("p99", second.p99)
                json.field("max", second.max)
            }
        }
        return json.text
    }

    /// Reads a document written by ``jsonText()`` (`--compare OLD.json`).
    public static func read(path: String) throws -> LoadSummary {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw LoadError(.usage, "cannot read \(path)", cause: error)
        }
        do {
            return try JSONDecoder().decode(LoadSummary.self, from: data)
        } catch {
            throw LoadError(.usage, "\(path) is not the JSON of an `fnhost load --json` run", cause: error)
        }
    }
}
