/// When each request of a run is meant to start, in seconds from the start of the run: the
/// schedule latencies are timed from (so a stalled target cannot hide its stall by slowing the
/// sender: no coordinated omission).
///
/// Open loop (`rate`): arrivals at `rate` per second; with a ramp the rate rises linearly from 0
/// to `rate` over `ramp` seconds, so arrival i is where the cumulative count `rate·t²/(2·ramp)`
/// reaches i. Closed loop (`concurrency`): client k of N starts at `k·ramp/N`.
public struct ArrivalSchedule: Sendable, Equatable {
    public let rate: Double
    public let ramp: Double

    public init(rate: Double, ramp: Double = 0) {
        self.rate = rate
        self.ramp = max(0, ramp)
    }

    /// The intended start of arrival `index` (0-based), in seconds from the start of the run.
    public func offset(ofArrival index: Int) -> Double {
        let i = Double(index)
        guard ramp > 0 else { return i / rate }
        let arrivalsDuringRamp = rate * ramp / 2
        if i < arrivalsDuringRamp { return (2 * ramp * i / rate).squareRoot() }
        return ramp + (i - arrivalsDuringRamp) / rate
    }

    /// How many arrivals are due by `seconds` into the run: the first index whose offset is later.
    public func arrivals(by seconds: Double) -> Int {
        guard seconds >= 0 else { return 0 }
        let due: Double
        if ramp > 0 && seconds < ramp {
            due = rate * seconds * seconds / (2 * ramp)
        } else {
            due = rate * (seconds - ramp) + rate * ramp / 2
        }
        return Int(due.rounded(.down)) + 1
    }

    /// The start of closed-loop client `client` of `clients` when their number ramps up over `ramp` seconds.
    public static func clientStart(_ client: Int, of clients: Int, ramp: Double) -> Double {
        guard ramp > 0, clients > 0 else { return 0 }
        return ramp * Double(client) / Double(clients)
    }
}
