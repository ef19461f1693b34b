import Foundation
import Testing

@testable import FunctionHostCore

private func function(_ properties: String, extra: String = "") -> String {
    """
    Transform: AWS::Serverless-2016-10-31
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: src
          Handler: app.handler
          Runtime: python3.12
    \(properties.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
    \(extra)
    """
}

/// Writes `size` bytes of zeros to `path` (sparse: costs no disk).
private func sparseFile(_ path: String, size: Int) throws {
    FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.truncate(atOffset: UInt64(size))
    try handle.close()
}

/// Environment rules, layers, EphemeralStorage and the 250 MB limit, as the loader enforces them.
@Suite struct TemplateLoaderSandboxTests {
    @Test func refusesReservedEnvironmentKeysNamingThem() throws {
        let fixture = try TemplateFixture()
        let error = fixture.loadError(
            function(
                """
                Environment:
                  Variables:
                    AWS_REGION: eu-west-1
                    LAMBDA_TASK_ROOT: /x
                    FINE: yes
                """))
        #expect(error?.resource == "Fn")
        #expect(error?.property == "Environment.Variables")
        #expect(error?.message.hasSuffix("Reserved keys used in this request: AWS_REGION, LAMBDA_TASK_ROOT") == true)
    }

    @Test func refusesVariablesOverFourKilobytes() throws {
        let fixture = try TemplateFixture()
        let big = String(repeating: "x", count: 2100)
        let error = fixture.loadError(function("Environment:\n  Variables:\n    A: \(big)\n    B: \(big)"))
        #expect(error?.property == "Environment.Variables")
        #expect(error?.message.contains("4 KB") == true)
        let fits = try fixture.load(function("Environment:\n  Variables:\n    A: \(big)\n    TZ: UTC"))
        #expect(fits.functions.first?.environment["TZ"] == "UTC")
    }

    @Test func readsEphemeralStorageWithinLambdasRange() throws {
        let fixture = try TemplateFixture()
        let loaded = try fixture.load(function("EphemeralStorage:\n  Size: 1024"))
        #expect(loaded.functions.first?.ephemeralStorage == 1024)
        #expect(try fixture.load(function("")).functions.first?.ephemeralStorage == 512)
        let error = fixture.loadError(function("EphemeralStorage:\n  Size: 256"))
        #expect(error?.property == "EphemeralStorage.Size")
    }

    @Test func resolvesLayersInOrderFromRefsAndPaths() throws {
        let fixture = try TemplateFixture(codeDirectories: ["src", "layer-a", "layer-b", "layer-c"])
        let loaded = try fixture.load(
            function(
                "Layers:\n  - !Ref LayerA\n  - !Ref LayerB\n  - layer-c",
                extra: """
                  LayerA:
                    Type: AWS::Serverless::LayerVersion
                    Properties:
                      ContentUri: layer-a
                  LayerB:
                    Type: AWS::Lambda::LayerVersion
                    Properties:
                      Content: layer-b
                """))
        let base = fixture.directory.standardizedFileURL.path
        #expect(loaded.functions.first?.layers == ["\(base)/layer-a", "\(base)/layer-b", "\(base)/layer-c"])
        #expect(loaded.warnings.isEmpty, "layer resources are understood, not skipped")
    }

    @Test func refusesMoreThanFiveLayersAndMissingOnes() throws {
        let fixture = try TemplateFixture(codeDirectories: ["src", "l"])
        let six = fixture.loadError(function("Layers: [l, l, l, l, l, l]"))
        #expect(six?.property == "Layers")
        #expect(six?.message.contains("at most 5") == true)
        let missing = fixture.loadError(function("Layers: [nowhere]"))
        #expect(missing?.message.contains("is not a directory or .zip file") == true)
    }

    @Test func refusesCodeAndLayersOver250MegabytesUnzipped() throws {
        let fixture = try TemplateFixture(codeDirectories: ["src", "layer"])
        try sparseFile(fixture.directory.appendingPathComponent("src/big").path, size: 150 * 1_048_576)
        try sparseFile(fixture.directory.appendingPathComponent("layer/big").path, size: 110 * 1_048_576)
        #expect(try fixture.load(function("")).functions.count == 1)
        let error = fixture.loadError(function("Layers: [layer]"))
        #expect(error?.property == "Layers")
        #expect(error?.message.contains("over Lambda's limit of 250 MB") == true)
    }

    @Test func measuresAZipByItsCentralDirectory() throws {
        let zip = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/layers/b.zip").path
        // python/shared.py ("VALUE = 'b'\n", 12 bytes) and b-only.txt ("b\n", 2 bytes).
        #expect(try UnzippedSize.of(zip) == 14)
    }
}
