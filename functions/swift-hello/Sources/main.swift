import LambdaRuntime

/// The event: `{"name": "..."}`, where `name` may be left out.
struct HelloEvent: Decodable {
    var name: String?
}

/// The result: a greeting and the request it answers.
struct HelloResponse: Encodable {
    var message: String
    var requestId: String
}

/// Thrown for the name "error", to show how a function error reaches the caller.
struct HelloError: Error, CustomStringConvertible {
    var name: String
    var description: String { "refusing to greet '\(name)'" }
}

await LambdaRuntime.run { (event: HelloEvent, context: LambdaContext) in
    let name = event.name ?? "world"
    if name == "error" {
        throw HelloError(name: name)
    }
    context.log("greeting \(name)")
    return HelloResponse(message: "Hello, \(name)!", requestId: context.requestID)
}
