"""Which objects under the upload prefix are lineups, by their key (pure).

The bucket's notification filters on the prefix only, and the function decides by the
key: S3's suffix filter is case-sensitive, so with it `LINEUP.CSV` was silently ignored,
and a file under another name got no word at all.
"""

from __future__ import annotations

LINEUP_SUFFIXES = (".csv", ".csv.gz")
NOT_A_LINEUP_NAME = (
    "The file name must end in .csv, or .csv.gz for a gzip-compressed file (in any case):"
    " nothing was loaded. Upload the lineup again under such a name."
)


def is_lineup_name(key: str) -> bool:
    """A key ending in .csv or .csv.gz, in any case, names a lineup to load."""
    return key.lower().endswith(LINEUP_SUFFIXES)


def is_folder_marker(key: str, size: int) -> bool:
    """An empty object whose key ends in "/": what the S3 console makes for a folder.

    It is ignored without an email; any other object that is not a lineup gets a FAILED
    email (NOT_A_LINEUP_NAME).
    """
    return key.endswith("/") and size == 0
