// Kept apart from Foundation: only a `@preconcurrency` import of the C library lets Swift 6 touch `stdout`.
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

extension LambdaRuntime {
    /// Makes stdout line-buffered, once, before the first invocation.
    ///
    /// The runtime owns the function process's stdout. Without this, `print` and ``LambdaContext/log(_:)`` output
    /// to a pipe reaches the host in 4 KiB blocks, long after the invocation it belongs to.
    static func lineBufferStandardOutput() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
