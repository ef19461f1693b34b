/// The account and region fnhost pretends to be, used in every ARN and `AWS_REGION`.
public struct AccountContext: Sendable, Hashable {
    public var accountID: String
    public var region: String

    public init(accountID: String = "123456789012", region: String = "us-east-1") {
        self.accountID = accountID
        self.region = region
    }

    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
    public func functionARN(_ name: String, qualifier: String? = nil) -> String {
        let base = "arn:aws:lambda:\(region):\(accountID):function:\(name)"
        return qualifier.map { "\(base):\($0)" } ?? base
    }
}
