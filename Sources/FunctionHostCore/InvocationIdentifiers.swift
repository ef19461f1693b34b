import Glibc

/// Identifiers the platform mints per invocation: request ids and X-Ray trace headers.
///
/// Each comes from one random draw (no file opens, one syscall), because they are made on
/// every invoke, and is written digit by digit into a string short enough to need no allocation
/// where it can be.
public enum InvocationIdentifiers {
    /// `Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=0`.
    public static func traceHeader() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let epochSeconds = UInt64(now.tv_sec)
        let (first, second, parent) = randomWords()
        let root = hex(first, digits: 16) + hex(second >> 32, digits: 8)
        return "Root=1-\(hex(epochSeconds, digits: 8))-\(root);Parent=\(hex(parent, digits: 16));Sampled=0"
    }

    /// A random (version 4) UUID in lowercase, as Lambda's request ids are written.
    public static func requestID() -> String {
        let (first, second, _) = randomWords()
        let high = (first & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (second & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let a = hex(high >> 32, digits: 8), b = hex((high >> 16) & 0xFFFF, digits: 4), c = hex(high & 0xFFFF, digits: 4)
        let d = hex(low >> 48, digits: 4), e = hex(low & 0xFFFF_FFFF_FFFF, digits: 12)
        return "\(a)-\(b)-\(c)-\(d)-\(e)"
    }

    /// Three random words from one draw (glibc's `arc4random_buf`: one `getrandom` call).
    private static func randomWords() -> (UInt64, UInt64, UInt64) {
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { buffer in
            if let start = buffer.baseAddress { arc4random_buf(start, buffer.count) }
        }
        return words
    }

    /// `value`'s lowest `digits` hexadecimal digits in lowercase, zero-padded.
    private static func hex(_ value: UInt64, digits: Int) -> String {
        String(unsafeUninitializedCapacity: digits) { text in
            var rest = value
            for index in stride(from: digits - 1, through: 0, by: -1) {
                let digit = UInt8(truncatingIfNeeded: rest & 0xF)
                text[index] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                rest >>= 4
            }
            return digits
        }
    }
}
