"""What the tests read back of the table: stored rows as a person sees them."""

from __future__ import annotations

from collections.abc import Iterable


def as_seen(items: Iterable[dict]) -> list[tuple]:
    """Performance items (DynamoDB JSON) as sorted (performer, stage, start, end, line):
    what two loads of the same lineup must agree on, whatever the file's encoding."""
    return sorted(
        (
            i["performer"]["S"],
            i["stage"]["S"],
            i["start"]["S"],
            i["end"]["S"],
            int(i["source_line"]["N"]),
        )
        for i in items
    )
