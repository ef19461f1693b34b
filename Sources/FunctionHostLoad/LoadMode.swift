/// How requests are started: a fixed number of closed-loop clients, or open-loop arrivals at a rate.
public enum LoadMode: Sendable, Equatable {
    /// N clients, each sending its next request as soon as the previous one answered.
    case concurrency(Int)
    /// Arrivals per second on a fixed schedule, whether or not earlier requests have answered.
    case rate(Double)

    /// The `mode` key of the JSON summary.
    public var name: String {
        switch self {
        case .concurrency: "concurrency"
        case .rate: "rate"
        }
    }
}

/// When a run stops issuing requests.
public enum LoadStop: Sendable, Equatable {
    case requests(Int)
    case duration(seconds: Double)
}
