/// How one request ended; exactly one per request sent.
public enum RequestOutcome: Sendable, Equatable {
    /// An HTTP answer without `X-Amz-Function-Error`: 200, 202 (`Event`) or 204.
    case completed
    /// The function failed (`X-Amz-Function-Error`), or the endpoint answered another 4xx/5xx.
    case error(String)
    /// 429: the endpoint throttled the request.
    case throttled(String)
    /// No HTTP answer: refused, reset, timed out, abandoned on a second Ctrl-C.
    case transportError(String)
}
