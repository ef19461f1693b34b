import Foundation

/// `AWS::Lambda::Function` read through the `AWS::Serverless::Function` path, and inline code.
extension TemplateLoader {
    /// `AWS::Lambda::Function` properties renamed to the SAM ones the loader reads, and back for errors.
    static let lambdaPropertyNames = [
        "CodeUri": "Code", "InlineCode": "Code.ZipFile", "DeadLetterQueue": "DeadLetterConfig",
    ]

    /// The SAM spelling of an `AWS::Lambda::Function`'s properties: `Code` as a local path (or
    /// CDK asset directory) becomes `CodeUri`, `Code.ZipFile` becomes `InlineCode`,
    /// `DeadLetterConfig` becomes `DeadLetterQueue`. Code that is only in S3 or a container
    /// image cannot run here: that is the skip reason.
    static func serverlessProperties(ofLambdaFunction properties: TemplateValue) -> (
        properties: TemplateValue, skipReason: String?
    ) {
        var converted: [(String, TemplateValue)] = []
        for (name, value) in properties.entries ?? [] {
            switch name {
            case "Code":
                if value.string != nil {
                    converted.append(("CodeUri", value))
                } else if let inline = value["ZipFile"] {
                    converted.append(("InlineCode", inline))
                } else if value["ImageUri"] != nil {
                    return (
                        properties,
                        "PackageType Image (a container image) is not supported by fnhost; only Zip functions run locally"
                    )
                } else if value["S3Bucket"] != nil || value["S3Key"] != nil {
                    return (
                        properties,
                        "its Code is in S3 (S3Bucket/S3Key) and fnhost runs local code only: give Code as a local directory, or synthesize with the CDK so Metadata aws:asset:path names it"
                    )
                } else {
                    converted.append(("CodeUri", value))
                }
            case "DeadLetterConfig":
                var queue: [(String, TemplateValue)] = [("Type", .string("SQS"))]
                if let target = value["TargetArn"] { queue.append(("TargetArn", target)) }
                converted.append(("DeadLetterQueue", .map(queue)))
            default:
                converted.append((name, value))
            }
        }
        return (.map(converted), nil)
    }

    /// Writes inline code as CloudFormation does (`index.py` or `index.js`) under
    /// `STATE_DIR/inline/PATH/`, only when it changed, and returns the directory.
    func writeInlineCode(
        _ code: String, runtime: FunctionRuntime, path: String, failure: (String, String) -> TemplateError
    ) throws(TemplateError) -> String {
        let fileName: String
        switch runtime {
        case .python: fileName = "index.py"
        case .nodejs: fileName = "index.js"
        case .provided: throw failure("InlineCode", "inline code needs a python or nodejs runtime, not \(runtime)")
        }
        let directory = URL(fileURLWithPath: stateDirectory).appendingPathComponent("inline")
            .appendingPathComponent(path).standardizedFileURL
        let file = directory.appendingPathComponent(fileName)
        do {
            if (try? String(contentsOf: file, encoding: .utf8)) != code {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try code.write(to: file, atomically: true, encoding: .utf8)
            }
        } catch {
            throw failure("InlineCode", "cannot write the inline code to \(file.path): \(error.localizedDescription)")
        }
        return directory.path
    }

    /// A resource for a later parser, its properties resolved where they can be.
    func deferredResource(
        _ logicalID: String, type: String, resource: TemplateValue, resolver: IntrinsicResolver, file: String,
        scope: StackScope
    ) -> DeferredResource {
        let written = resource["Properties"] ?? .map([])
        var deferred = DeferredResource(
            logicalID: scope.prefix + logicalID, type: type, properties: written, resolutionFailure: nil, file: file)
        do {
            deferred.properties = try resolver.resolve(written)
        } catch {
            deferred.resolutionFailure = error.message
        }
        return deferred
    }
}
