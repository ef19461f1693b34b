import Foundation

/// The platform log lines Lambda writes around each invocation, in its exact format
/// (tabs between REPORT fields, `%.2f` durations, billed time rounded up to 1 ms).
public enum LambdaLogFormat {
    /// How an invocation ended, for the REPORT line's `Status:` suffix.
    public enum Status: Sendable, Hashable {
        case success
        case timeout
        case error(type: String)
    }

    public static func start(requestID: String, version: String = "$LATEST") -> String {
        "START RequestId: \(requestID) Version: \(version)"
    }

    public static func end(requestID: String) -> String {
        "END RequestId: \(requestID)"
    }

    /// Durations in milliseconds. Billed duration includes init time, as Lambda bills it since 2025.
    public static func report(
        requestID: String, duration: Double, memorySize: Int, maxMemoryUsed: Int?, initDuration: Double?,
        status: Status
    ) -> String {
        let billed = Int((duration + (initDuration ?? 0)).rounded(.up))
        var line =
            "REPORT RequestId: \(requestID)\tDuration: \(milliseconds(duration)) ms\tBilled Duration: \(max(billed, 1)) ms"
            + "\tMemory Size: \(memorySize) MB"
        // Never a made-up figure: left out when nothing was measured.
        if let maxMemoryUsed { line += "\tMax Memory Used: \(maxMemoryUsed) MB" }
        if let initDuration { line += "\tInit Duration: \(milliseconds(initDuration)) ms" }
        switch status {
        case .success: break
        case .timeout: line += "\tStatus: timeout"
        case .error(let type): line += "\tStatus: error\tError Type: \(type)"
        }
        return line
    }

    /// `INIT_REPORT Init Duration: 154.03 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError`.
    public static func initReport(duration: Double, status: Status) -> String {
        var line = "INIT_REPORT Init Duration: \(milliseconds(duration)) ms\tPhase: init"
        switch status {
        case .success: break
        case .timeout: line += "\tStatus: timeout"
        case .error(let type): line += "\tStatus: error\tError Type: \(type)"
        }
        return line
    }

    /// `2024-01-01T00:00:00.000Z <id> Task timed out after 3.00 seconds`.
    public static func timedOut(requestID: String, seconds: Int, at date: Date = Date()) -> String {
        "\(timestamp(date)) \(requestID) Task timed out after \(Self.seconds(seconds)) seconds"
    }

    /// `RequestId: <id> Error: Runtime exited with error: exit status 1`.
    public static func runtimeExited(requestID: String, reason: ExitReason) -> String {
        "RequestId: \(requestID) Error: \(reason.message)"
    }

    /// `value` as `%.2f` prints it (the exact binary value rounded half to even), without
    /// Foundation's formatter, which cost 4 % of the host's CPU when it ran on every REPORT line.
    static func milliseconds(_ value: Double) -> String {
        guard value.isFinite, value.magnitude < 1e13 else { return String(format: "%.2f", value) }
        let product = value.magnitude * 100
        // The product's rounding error, exactly: it decides a product that landed on a half.
        let error = (-product).addingProduct(value.magnitude, 100)
        var hundredths = product.rounded(.down)
        let fraction = product - hundredths
        if fraction > 0.5 || (fraction == 0.5 && (error > 0 || (error == 0 && hundredths.truncatingRemainder(dividingBy: 2) == 1))) {
            hundredths += 1
        }
        let whole = Int(hundredths) / 100, cents = Int(hundredths) % 100
        return "\(value.sign == .minus ? "-" : "")\(whole).\(cents < 10 ? "0" : "")\(cents)"
    }

    static func seconds(_ value: Int) -> String { "\(value).00" }

    /// ISO 8601 UTC with milliseconds and `Z`.
    public static func timestamp(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = Int((date.timeIntervalSince1970 * 1000).truncatingRemainder(dividingBy: 1000))
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec, millis)
    }
}
