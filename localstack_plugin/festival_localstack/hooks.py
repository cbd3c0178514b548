"""Patches applied when LocalStack starts, before any request (plux hooks; see pyproject.toml).

The DynamoDB patches are applied where that provider is created, since only it uses them.
S3's provider is created at the first S3 request, and a bucket's notifications would carry
LocalStack's constant sequencer until then: the sequencer patch is applied at start instead.
"""

from __future__ import annotations

from localstack.runtime import hooks

from festival_localstack import s3_sequencer


@hooks.on_infra_start()
def festival_s3_sequencers() -> None:
    s3_sequencer.apply()
