// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "fnhost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fnhost", targets: ["fnhost"]),
        .executable(name: "fnhost-launch", targets: ["fnhost-launch"]),
        .library(name: "LambdaRuntime", targets: ["LambdaRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .target(
            name: "FunctionHostCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostStore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostRuntimeBootstraps",
            path: "runtime-api",
            exclude: ["c"],
            sources: ["RuntimeBootstraps.swift"],
            resources: [.copy("python"), .copy("node")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostRuntimeAPI",
            dependencies: [
                "FunctionHostCore",
                "CSocketOwner",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostSupervisor",
            dependencies: [
                "FunctionHostCore",
                "FunctionHostRuntimeAPI",
                "FunctionHostRuntimeBootstraps",
                "CLoopVolume",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostInvokeAPI",
            dependencies: [
                "FunctionHostCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostEventSources",
            dependencies: [
                "FunctionHostCore",
                "FunctionHostStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostQueues",
            dependencies: [
                "FunctionHostCore",
                "FunctionHostStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostStreams",
            dependencies: [
                "FunctionHostCore",
                "FunctionHostStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostRemoteSources",
            dependencies: [
                "FunctionHostCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHost",
            dependencies: [
                "FunctionHostCore",
                "FunctionHostSupervisor",
                "FunctionHostInvokeAPI",
                "FunctionHostEventSources",
                "FunctionHostQueues",
                "FunctionHostStreams",
                "FunctionHostRemoteSources",
                "FunctionHostStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostLoad",
            dependencies: [
                "FunctionHostCore",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fnhost",
            dependencies: [
                "FunctionHost",
                "FunctionHostCore",
                "FunctionHostEventSources",
                "FunctionHostInvokeAPI",
                "FunctionHostLoad",
                "FunctionHostQueues",
                "FunctionHostSupervisor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            // Swift 6.3.1's optimizer breaks on this target's async command code (coroutine splitting
            // and a swifterror verifier failure in release builds); it is command-line glue, so it is
            // built unoptimized. The host itself lives in the optimized library targets.
            swiftSettings: swiftSettings + [.unsafeFlags(["-Onone"], .when(configuration: .release))]
        ),
        .target(name: "CSocketOwner"),
        .target(name: "CLoopVolume"),
        // Linked statically: every cold start that finds no standby launcher execs it, and SwiftPM's
        // link made it load libswiftCore, libstdc++ and libseccomp at each exec, 1.5-2 ms of CPU per
        // start (bench/README.md, "Cold path and bursts").
        .executableTarget(
            name: "fnhost-launch",
            linkerSettings: [.linkedLibrary("seccomp"), .unsafeFlags(["-static-executable"])]
        ),
        .target(
            name: "LambdaRuntime",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "swift-hello",
            dependencies: ["LambdaRuntime"],
            path: "functions/swift-hello/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fnhost-bench",
            dependencies: [
                "FunctionHostCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/Sources/fnhost-bench",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FunctionHostTesting",
            dependencies: [
                "FunctionHost",
                "FunctionHostCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionHostCoreTests",
            dependencies: ["FunctionHostCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionHostLoadTests",
            dependencies: ["FunctionHostLoad", "FunctionHostCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionHostEventSourcesTests",
            dependencies: [
                "FunctionHostEventSources", "FunctionHostStore", "FunctionHostCore", "FunctionHostTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionHostStoreTests",
            dependencies: [
                "FunctionHostStore", "FunctionHostTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionHostQueuesTests",
            dependencies: [
                "FunctionHostQueues", "FunctionHostStore", "FunctionHostCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionHostStreamsTests",
            dependencies: [
                "FunctionHostStreams", "FunctionHostStore", "FunctionHostCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionHostRuntimeAPITests",
            dependencies: [
                "FunctionHostRuntimeAPI",
                "FunctionHostCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionHostSupervisorTests",
            dependencies: [
                "FunctionHostSupervisor", "FunctionHostCore", "FunctionHostTesting",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionHostIntegrationTests",
            dependencies: [
                "FunctionHostTesting",
                "FunctionHost",
                "FunctionHostCore",
                "FunctionHostInvokeAPI",
                "FunctionHostRemoteSources",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
