import FunctionHostCore
import Foundation
import Testing

/// The request ids and trace headers minted per invocation: their shape, as clients parse them, and their spread.
@Suite struct InvocationIdentifiersTests {
    @Test func aRequestIDIsALowercaseVersion4UUID() throws {
        let pattern = try Regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        for _ in 0..<200 {
            let id = InvocationIdentifiers.requestID()
            #expect(id.wholeMatch(of: pattern) != nil, "\(id)")
            #expect(UUID(uuidString: id) != nil)
        }
    }

    @Test func aTraceHeaderIsAnXRayRootWithAParent() throws {
        let pattern = try Regex("^Root=1-([0-9a-f]{8})-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$")
        let before = UInt64(Date().timeIntervalSince1970)
        let header = InvocationIdentifiers.traceHeader()
        let match = try #require(header.wholeMatch(of: pattern), "\(header)")
        let epoch = try #require(match.output[1].substring)
        let seconds = try #require(UInt64(String(epoch), radix: 16))
        #expect((before...before + 5).contains(seconds))
    }

    @Test func identifiersDoNotRepeatAndUseEveryDigit() {
        let ids = (0..<2_000).map { _ in InvocationIdentifiers.requestID() }
        #expect(Set(ids).count == ids.count)
        let roots = (0..<2_000).map { _ in InvocationIdentifiers.traceHeader().dropFirst(16).prefix(24) }
        #expect(Set(roots).count == roots.count)
        // Random words written in full: each of the 16 digits shows up in the 12-digit tail of some id.
        #expect(Set(ids.flatMap { $0.suffix(12) }).count == 16)
    }
}
