VALUE = "from the CDK layer asset"
