import Testing

@testable import FunctionHostRemoteSources

@Suite struct ExternalStreamReaderTests {
    @Test(arguments: [
        (1_545_084_650.987, 1_545_084_650_987), (-5, 0), (1e300, 253_402_300_799_000), (.nan, 0), (.infinity, 0),
    ] as [(Double, Int64)])
    func arrivalTimesFromTheServiceNeverTrap(seconds: Double, milliseconds: Int64) {
        #expect(ExternalStreamReader.milliseconds(seconds) == milliseconds)
    }

    @Test func aMissingArrivalTimeIsZero() {
        #expect(ExternalStreamReader.milliseconds(nil) == 0)
    }
}
