import Foundation

/// An AWS access key, secret and optional session token, found the way the AWS CLI and SDKs find
/// them (``resolve(environment:)``). `description` never shows the secret or the token, so a
/// value can be logged safely.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret redacted\(sessionToken == nil ? "" : ", session token redacted"))" }

    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`) from the environment,
    /// else the profile `AWS_PROFILE` (default `default`) of the shared credentials file
    /// (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`) or config file
    /// (`AWS_CONFIG_FILE`, default `~/.aws/config`); `nil` when none is set.
    public static func resolve(environment: [String: String]) -> AWSCredentials? {
        if let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        {
            return AWSCredentials(
                accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
        }
        let files = AWSSharedConfig(environment: environment)
        for section in [files.credentials, files.config] {
            if let key = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] {
                return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: section["aws_session_token"])
            }
        }
        return nil
    }

    /// The region: `flag` (`--region`), `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`
    /// in the config file, else `us-east-1`.
    public static func region(flag: String?, environment: [String: String]) -> String {
        for candidate in [flag, environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]] {
            if let candidate, !candidate.isEmpty { return candidate }
        }
        return AWSSharedConfig(environment: environment).config["region"] ?? "us-east-1"
    }
}
