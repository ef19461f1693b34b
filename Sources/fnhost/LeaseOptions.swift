import ArgumentParser
import FunctionHost
import FunctionHostEventSources

/// `fnhost serve` flags for the shard leases that let several hosts share an external Kinesis or
/// DynamoDB stream.
struct LeaseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Seconds without renewal after which another host takes a shard lease of an external stream (KCL: 10); renewed three times as often.",
            valueName: "SECONDS"))
    var leaseDuration: Double = Double(ShardLeasing.defaultLeaseDuration) / 1000

    @Option(
        help: ArgumentHelp(
            "Start of the DynamoDB lease tables' names (one per mapping: PREFIX-FUNCTION-DIGEST OF THE STREAM ARN); hosts that share a stream use the same.",
            valueName: "PREFIX"))
    var leaseTablePrefix: String = ShardLeasing.defaultTablePrefix

    func validate() throws {
        guard leaseDuration >= 0.1, leaseDuration <= 3600 else {
            throw ValidationError("--lease-duration must be between 0.1 and 3600 seconds")
        }
        guard !leaseTablePrefix.isEmpty, leaseTablePrefix.count <= 160,
            leaseTablePrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) })
        else {
            throw ValidationError("--lease-table-prefix must be 1 to 160 of A-Z a-z 0-9 _ . -")
        }
    }

    func apply(to configuration: inout HostConfiguration) {
        configuration.leaseDuration = Int64((leaseDuration * 1000).rounded())
        configuration.leaseTablePrefix = leaseTablePrefix
    }
}
