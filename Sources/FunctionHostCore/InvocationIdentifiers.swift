import Glibc

/// Identifiers the platform mints per invocation: request ids and X-Ray trace headers.
///
/// Both come from two 64-bit draws of the system generator (no file opens, one syscall each),
/// because they are made on every invoke.
public enum InvocationIdentifiers {
    /// `Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=0`.
    public static func traceHeader() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let epochSeconds = UInt64(now.tv_sec)
        var generator = SystemRandomNumberGenerator()
        let root = hex(generator.next(), digits: 16) + hex(generator.next() >> 32, digits: 8)
        let parent = hex(generator.next(), digits: 16)
        return "Root=1-\(hex(epochSeconds, digits: 8))-\(root);Parent=\(parent);Sampled=0"
    }

    /// A random (version 4) UUID in lowercase, as Lambda's request ids are written.
    public static func requestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = (generator.next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (generator.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let a = hex(high >> 32, digits: 8), b = hex((high >> 16) & 0xFFFF, digits: 4), c = hex(high & 0xFFFF, digits: 4)
        let d = hex(low >> 48, digits: 4), e = hex(low & 0xFFFF_FFFF_FFFF, digits: 12)
        return "\(a)-\(b)-\(c)-\(d)-\(e)"
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return text.count >= digits ? String(text.suffix(digits)) : String(repeating: "0", count: digits - text.count) + text
    }
}
