/// Reading the parts of an Amazon Resource Name (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`).
public enum AWSARN {
    /// The region an ARN names (`eu-west-1` in `arn:aws:sqs:eu-west-1:123456789012:jobs`), or `nil`
    /// when it is not an ARN or names none.
    public static func region(of arn: String) -> String? {
        let fields = arn.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count > 4, fields[0] == "arn", !fields[3].isEmpty else { return nil }
        return String(fields[3])
    }
}
