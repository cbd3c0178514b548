"""The names and addresses the festival package, the tests and the benchmarks share: change
them here only.

The Lambda (``lambda/``) imports none of this: it reads its settings from its environment.
"""

from __future__ import annotations

import boto3

# The largest file the explorer's Upload page takes unless `festival serve --max-upload-mb`.
DEFAULT_MAX_UPLOAD_MB = 100

# The stack `make up` deploys locally and `make deploy-aws` deploys unless given another name.
STACK_NAME = "festival-lineup"

# LocalStack's edge port, on loopback only.
LOCALSTACK_PORT = 4566
LOCAL_ENDPOINT = f"http://127.0.0.1:{LOCALSTACK_PORT}"
LOCAL_REGION = "us-east-1"
# LocalStack accepts any credentials; set, they keep boto3 from looking for real ones.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": LOCAL_REGION,
}


def local_session(region: str | None = None) -> boto3.Session:
    """A boto3 session with the local stack's credentials (the endpoint is per client)."""
    return boto3.Session(
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region or LOCAL_REGION,
    )


def local_client(service: str):
    """A boto3 client for the local stack's endpoint."""
    return local_session().client(service, endpoint_url=LOCAL_ENDPOINT)
