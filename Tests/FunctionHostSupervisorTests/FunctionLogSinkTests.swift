import Foundation
import Testing

@testable import FunctionHostSupervisor

@Suite struct FunctionLogSinkTests {
    private func withLogDirectory(_ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fnhost-logs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(directory)
    }

    @Test func rotatesAtTheSizeAndKeepsTheNewestFiles() throws {
        try withLogDirectory { directory in
            let sink = try FunctionLogSink(logicalID: "Fn", logDirectory: directory, console: -1, rotation: (100, 3))
            for index in 0..<50 { sink.write([String(format: "line %03d ........", index)]) }
            let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            #expect(names == ["Fn.log", "Fn.log.1", "Fn.log.2"])
            for name in names {
                let size = try #require(try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int)
                #expect(size <= 100, "\(name) holds \(size) bytes")
            }
            let current = try String(contentsOfFile: directory + "/Fn.log", encoding: .utf8)
            #expect(current.hasSuffix("line 049 ........\n"))
            let previous = try String(contentsOfFile: directory + "/Fn.log.1", encoding: .utf8)
            #expect(previous.split(separator: "\n").last.map { $0 < "line 049" } == true)
        }
    }

    @Test func tailKeepsTheLastFourKilobytesOfAChattyInvocation() throws {
        try withLogDirectory { directory in
            let output = WorkerOutput(
                sink: try FunctionLogSink(logicalID: "Fn", logDirectory: directory, console: -1, rotation: (1 << 30, 1)))
            output.beginCapture()
            for index in 0..<20_000 { output.emit("invocation line \(index) " + String(repeating: "x", count: 80)) }
            let tail = try #require(output.endCapture())
            #expect(tail.utf8.count == WorkerOutput.tailSize)
            #expect(tail.hasSuffix("invocation line 19999 " + String(repeating: "x", count: 80) + "\n"))
            #expect(output.endCapture() == nil, "the capture ends with the invocation")
        }
    }
}
