import Foundation

/// The selected profile's keys in the AWS CLI's shared files: `credentials` (section `[NAME]`) and
/// `config` (section `[profile NAME]`, or `[default]`). Missing or unreadable files read as empty.
struct AWSSharedConfig {
    let credentials: [String: String]
    let config: [String: String]

    init(environment: [String: String]) {
        let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let home = environment["HOME"] ?? NSHomeDirectory()
        let credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials"
        let configPath = environment["AWS_CONFIG_FILE"] ?? home + "/.aws/config"
        credentials = Self.section(profile, in: credentialsPath)
        config = Self.section(profile == "default" ? "default" : "profile \(profile)", in: configPath)
    }

    /// The `key = value` lines of `[name]` in an INI file; names are matched with inner spaces collapsed.
    static func section(_ name: String, in path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        return section(name, inText: text)
    }

    static func section(_ name: String, inText text: String) -> [String: String] {
        var inside = false
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let header = line.dropFirst().dropLast().split(separator: " ").joined(separator: " ")
                inside = header == name
                continue
            }
            guard inside, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            values[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return values
    }
}
