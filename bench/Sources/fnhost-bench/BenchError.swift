import Glibc

/// Any failure of a benchmark step: the step stops and the driver reports the message.
struct BenchError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }

    /// A failed system call, with `errno` spelled out.
    static func system(_ call: String) -> BenchError {
        BenchError("\(call) failed: \(String(cString: strerror(errno)))")
    }
}
