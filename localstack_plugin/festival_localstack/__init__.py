"""LocalStack plugin for festival-lineup's host mode (no Docker engine, no Java).

- ``executor``: runs each Python Lambda function as a host process, on the interpreter
  chosen for its runtime (``FESTIVAL_LAMBDA_INTERPRETERS``), instead of in a container.
- ``runtime_init``: the process that stands in for LocalStack's Go ``lambda-runtime-init``.
- ``dynamodb``: serves DynamoDB from moto instead of DynamoDB Local (which needs Java),
  with optional fault injection for tests; ``moto_index`` keeps moto's tables sorted per
  index so a Query costs what it returns, and serializes DynamoDB requests.
- ``s3_sequencer``: S3 event records carry a sequencer that increases with each event of a
  key, as on AWS, instead of LocalStack's constant (applied at start by ``hooks``).
"""
