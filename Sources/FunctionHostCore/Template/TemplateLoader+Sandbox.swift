import Foundation

/// A layer the template defines: `AWS::Serverless::LayerVersion` (`ContentUri`) or
/// `AWS::Lambda::LayerVersion` (`Content`), as a local directory or .zip file.
struct LayerResource: Sendable {
    var path: String
    var unzippedSize: Int
}

/// What a function sees of its sandbox that the template decides: environment rules, layers,
/// `/tmp` size, and Lambda's 250 MB limit on code plus layers.
extension TemplateLoader {
    static let layerTypes: Set<String> = ["AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"]

    /// Variables Lambda sets itself and refuses in a function's configuration (spec 3.1).
    static let reservedEnvironmentKeys: Set<String> = [
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_RUNTIME_API", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_LAMBDA_MAX_CONCURRENCY",
    ]
    /// Lambda's limit on the names and values of a function's variables together.
    static let environmentLimit = 4 * 1024
    /// Lambda's limit on a function's unzipped code plus all its layers.
    static let unzippedLimit = 250 * 1024 * 1024
    static let maximumLayers = 5

    /// The template's layer resources by logical id; sizes measured once for every function using them.
    static func loadLayers(
        _ resources: [(String, TemplateValue)], resolver: IntrinsicResolver, file: String, baseDirectory: String
    ) throws(TemplateError) -> [String: LayerResource] {
        var layers: [String: LayerResource] = [:]
        for (logicalID, resource) in resources {
            guard let type = resource["Type"]?.string, layerTypes.contains(type) else { continue }
            let property = type == "AWS::Lambda::LayerVersion" ? "Content" : "ContentUri"
            func failure(_ message: String) -> TemplateError {
                TemplateError(file: file, resource: logicalID, property: property, message: message)
            }
            guard let unresolved = resource["Properties"]?[property] else { throw failure("is missing") }
            let value: TemplateValue
            do {
                value = try resolver.resolve(unresolved)
            } catch {
                throw failure(error.message)
            }
            guard let location = value.string else {
                throw failure("must be a local directory or .zip file; fnhost does not download layers from S3")
            }
            let path = try localSource(location, baseDirectory: baseDirectory, failure: failure)
            do {
                layers[logicalID] = LayerResource(path: path, unzippedSize: try UnzippedSize.of(path))
            } catch {
                throw failure(error.description)
            }
        }
        return layers
    }

    /// Applies `Layers`, `EphemeralStorage` and the environment rules to a loaded function.
    func loadSandboxProperties(
        into function: inout FunctionConfiguration, properties: TemplateValue, resolver: IntrinsicResolver,
        layers: [String: LayerResource], file: String, baseDirectory: String
    ) throws(TemplateError) {
        func failure(_ property: String, _ message: String) -> TemplateError {
            TemplateError(file: file, resource: function.logicalID, property: property, message: message)
        }
        func resolved(_ name: String) throws(TemplateError) -> TemplateValue? {
            guard let value = properties[name] else { return nil }
            do {
                let resolved = try resolver.resolve(value)
                return resolved == IntrinsicResolver.noValue ? nil : resolved
            } catch {
                throw failure(name, error.message)
            }
        }

        let reserved = function.environment.keys.filter(Self.reservedEnvironmentKeys.contains).sorted()
        if !reserved.isEmpty {
            throw failure(
                "Environment.Variables",
                "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: \(reserved.joined(separator: ", "))"
            )
        }
        if let excess = Self.environmentExcess(function.environment) { throw failure("Environment.Variables", excess) }

        if let storage = try resolved("EphemeralStorage") {
            guard let text = storage["Size"]?.string, let size = Int(text) else {
                throw failure("EphemeralStorage.Size", "must be an integer number of MB")
            }
            guard (512...10240).contains(size) else {
                throw failure("EphemeralStorage.Size", "must be between 512 and 10240 MB, got \(size)")
            }
            function.ephemeralStorage = size
        }

        var total = 0
        if let list = try resolved("Layers") {
            guard case .list(let items) = list else { throw failure("Layers", "must be a list") }
            guard items.count <= Self.maximumLayers else {
                throw failure("Layers", "has \(items.count) layers; Lambda allows at most \(Self.maximumLayers)")
            }
            for item in items {
                guard let reference = item.string else { throw failure("Layers", "each layer must be a !Ref or a path") }
                if let layer = layers[reference] {
                    function.layers.append(layer.path)
                    total += layer.unzippedSize
                } else if reference.hasPrefix("arn:") {
                    function.publishedLayers.append(reference)
                } else {
                    let path = try Self.localSource(reference, baseDirectory: baseDirectory) { message in
                        failure("Layers", message)
                    }
                    function.layers.append(path)
                    do {
                        total += try UnzippedSize.of(path)
                    } catch {
                        throw failure("Layers", error.description)
                    }
                }
            }
        }
        let code = UnzippedSize.directory(function.codeDirectory, limit: Self.unzippedLimit - total)
        if code + total > Self.unzippedLimit {
            throw failure(
                function.layers.isEmpty ? "CodeUri" : "Layers",
                "the function's code (\(megabytes(code))) and its layers (\(megabytes(total))) unzipped are over Lambda's limit of 250 MB"
            )
        }
    }

    private func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }

    /// An existing directory or .zip file, relative to the template's directory.
    static func localSource(
        _ location: String, baseDirectory: String, failure: (String) -> TemplateError
    ) throws(TemplateError) -> String {
        let path = URL(fileURLWithPath: location, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true))
            .standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
            isDirectory.boolValue || path.hasSuffix(".zip")
        else {
            throw failure("\(location) is not a directory or .zip file (looked for \(path))")
        }
        return path
    }
}

extension TemplateLoader {
    /// Why `environment` is over Lambda's 4 KB of names and values, or `nil` when it fits.
    static func environmentExcess(_ environment: [String: String]) -> String? {
        let size = environment.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard size > environmentLimit else { return nil }
        return "the variables total \(size) bytes of names and values, over Lambda's 4 KB (\(environmentLimit) bytes) limit"
    }
}
