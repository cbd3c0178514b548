"""Load a festival lineup CSV from S3 into DynamoDB."""
