import Foundation
import Testing

@testable import FunctionHostCore

/// AWS's Signature Version 4 test-suite vectors (Tests/Fixtures/sigv4): each `.sreq` is signed
/// again without its `Authorization` line and must get that line back.
@Suite struct SigV4SignerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/sigv4").standardizedFileURL
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    /// A parsed `.sreq`: request line, headers, body, and the expected `Authorization`.
    struct Vector {
        var method = ""
        var path = ""
        var query = ""
        var headers: [(name: String, value: String)] = []
        var sessionToken: String?
        var body = ""
        var authorization = ""

        init(_ name: String) throws {
            let text = try String(contentsOf: SigV4SignerTests.fixtures.appendingPathComponent("\(name).sreq"), encoding: .utf8)
            let parts = text.components(separatedBy: "\n\n")
            var lines = parts[0].components(separatedBy: "\n")
            let requestLine = lines.removeFirst().split(separator: " ")
            method = String(requestLine[0])
            let target = requestLine[1].split(separator: "?", maxSplits: 1)
            path = String(target[0])
            query = target.count > 1 ? String(target[1]) : ""
            for line in lines {
                let colon = try #require(line.firstIndex(of: ":"))
                let name = String(line[..<colon])
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                switch name.lowercased() {
                case "authorization": authorization = value
                case "x-amz-date": continue  // the signer adds it from the date
                case "x-amz-security-token": sessionToken = value  // ... and this from the credentials
                default: headers.append((name, value))
                }
            }
            body = parts.count > 1 ? parts[1] : ""
        }
    }

    @Test(arguments: [
        "get-vanilla", "post-vanilla", "get-vanilla-query-order-key-case", "post-x-www-form-urlencoded",
        "post-sts-header-before",
    ])
    func signsLikeTheTestSuite(_ name: String) throws {
        let vector = try Vector(name)
        let credentials = AWSCredentials(
            accessKeyID: Self.credentials.accessKeyID, secretAccessKey: Self.credentials.secretAccessKey,
            sessionToken: vector.sessionToken)
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let added = signer.sign(
            method: vector.method, path: vector.path, query: vector.query, headers: vector.headers,
            payloadHash: SigV4Signer.payloadHash(of: Array(vector.body.utf8)), date: Self.suiteDate)
        #expect(added.first { $0.name == "Authorization" }?.value == vector.authorization)
        #expect(added.first { $0.name == "X-Amz-Date" }?.value == "20150830T123600Z")
        #expect(added.first { $0.name == "X-Amz-Security-Token" }?.value == vector.sessionToken)
    }

    @Test func emptyPayloadHashIsSHA256OfNothing() {
        #expect(SigV4Signer.emptyPayloadHash == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func encodesPathSegmentsAgain() {
        #expect(
            SigV4Signer.canonicalURI("/2015-03-31/functions/arn%3Aaws%3Alambda/invocations")
                == "/2015-03-31/functions/arn%253Aaws%253Alambda/invocations")
        #expect(SigV4Signer.canonicalURI("") == "/")
    }

    @Test func credentialsNeverShowTheSecret() {
        let credentials = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t", sessionToken: "t0ken")
        #expect(!"\(credentials)".contains("s3cr3t"))
        #expect(!"\(credentials)".contains("t0ken"))
    }

    @Test func credentialsComeFromTheEnvironmentFirst() {
        let found = AWSCredentials.resolve(environment: [
            "AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "HOME": "/nonexistent",
        ])
        #expect(found?.accessKeyID == "AKENV")
        #expect(found?.sessionToken == nil)
        #expect(AWSCredentials.resolve(environment: ["HOME": "/nonexistent"]) == nil)
    }

    @Test func credentialsAndRegionComeFromTheProfileInTheSharedFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sigv4-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let credentialsFile = directory.appendingPathComponent("credentials")
        let configFile = directory.appendingPathComponent("config")
        try """
            [default]
            aws_access_key_id = AKDEFAULT
            aws_secret_access_key = default-secret

            [load]
            aws_access_key_id = AKLOAD
            aws_secret_access_key = load-secret
            aws_session_token = load-token
            """.write(to: credentialsFile, atomically: true, encoding: .utf8)
        try """
            [default]
            region = eu-west-1
            [profile load]
            region = ap-south-1
            """.write(to: configFile, atomically: true, encoding: .utf8)
        var environment = [
            "AWS_SHARED_CREDENTIALS_FILE": credentialsFile.path, "AWS_CONFIG_FILE": configFile.path, "HOME": "/nonexistent",
        ]
        #expect(AWSCredentials.resolve(environment: environment)?.accessKeyID == "AKDEFAULT")
        #expect(AWSCredentials.region(flag: nil, environment: environment) == "eu-west-1")
        environment["AWS_PROFILE"] = "load"
        let load = AWSCredentials.resolve(environment: environment)
        #expect(load?.accessKeyID == "AKLOAD")
        #expect(load?.sessionToken == "load-token")
        #expect(AWSCredentials.region(flag: nil, environment: environment) == "ap-south-1")
        environment["AWS_DEFAULT_REGION"] = "us-west-2"
        #expect(AWSCredentials.region(flag: nil, environment: environment) == "us-west-2")
        environment["AWS_REGION"] = "ca-central-1"
        #expect(AWSCredentials.region(flag: nil, environment: environment) == "ca-central-1")
        #expect(AWSCredentials.region(flag: "sa-east-1", environment: environment) == "sa-east-1")
        #expect(AWSCredentials.region(flag: nil, environment: ["HOME": "/nonexistent"]) == "us-east-1")
    }
}
