import Foundation
import Testing

@testable import FunctionHostQueues

@Suite struct MessageDigestTests {
    @Test func bodyDigestIsMD5HexOfUTF8() {
        #expect(MessageDigest.body("hello") == "5d41402abc4b2a76b9719d911017c592")
    }

    @Test func attributeDigestMatchesSpecVectors() {
        #expect(
            MessageDigest.attributes(["Foo": .init(dataType: "String", stringValue: "Bar")])
                == "ae7155c6026991b6d54b11589678bf9c")
        #expect(
            MessageDigest.attributes(["MyAttribute": .init(dataType: "String", stringValue: "foobar")])
                == "adb59cd4678ea5a855436b949cd07ab6")
        #expect(MessageDigest.attributes([:]) == nil)
    }

    @Test func attributeDigestIgnoresInsertionOrder() {
        let a: [String: MessageAttributeValue] = [
            "b": .init(dataType: "Number", stringValue: "1"),
            "a": .init(dataType: "Binary", binaryValue: Data([1, 2])),
        ]
        var b: [String: MessageAttributeValue] = [:]
        b["a"] = a["a"]
        b["b"] = a["b"]
        #expect(MessageDigest.attributes(a) == MessageDigest.attributes(b))
    }

    @Test func contentDeduplicationIsSHA256Hex() {
        #expect(
            MessageDigest.contentDeduplicationID("abc")
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
