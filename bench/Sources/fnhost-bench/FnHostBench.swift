import ArgumentParser

/// `fnhost-bench`: the measuring half of `bench/run` (which starts the servers and summarises).
///
/// `echo` is the reference server; `warm` and `cold` time one server and print one JSON object
/// of raw samples on stdout. None of them is a test: they never judge the numbers.
@main
struct FnHostBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fnhost-bench",
        abstract: "Benchmark pieces for fnhost (driven by bench/run).",
        subcommands: [EchoServer.self, WarmLatency.self, ColdStart.self])
}
