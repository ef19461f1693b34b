import Foundation

/// X-Ray trace headers for invocations that arrive without one.
public enum TraceID {
    public static func make(date: Date = Date()) -> String {
        let epoch = String(UInt32(date.timeIntervalSince1970), radix: 16)
        return "Root=1-\(epoch)-\(hex(24));Parent=\(hex(16));Sampled=0"
    }

    private static func hex(_ count: Int) -> String {
        String((0..<count).map { _ in "0123456789abcdef".randomElement()! })
    }
}
