"""A row's values as a Performance, or a RowError saying what is wrong: the parser's last
layer (a row's values → a Performance; its Date, Start and End are read by times.py).

A performer or stage name must fit in the table's keys (its name key, schema.name_key, is at
most schema.NAME_KEY_MAX_BYTES bytes of UTF-8) and must not hold a character that changes
how text is shown (text.DISPLAY_CONTROLS; a tab is whitespace, and allowed). A name in a
wrapped spreadsheet cell holds line breaks inside its quotes: each run of them, with the
spaces and tabs around it, is read as one space, and ReadCounts counts the names so joined.
A row with any problem is one RowError naming them all; the other rows still load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from lineup_ingest.columns import LABELS, Header
from lineup_ingest.csv_records import note_run_on
from lineup_ingest.lines import CHECK_NAMES, NOT_UTF8, NUL, NUL_REASON, UTF8_HINT
from lineup_ingest.schema import NAME_KEY_MAX_BYTES, name_key
from lineup_ingest.text import DISPLAY_CONTROLS, describe
from lineup_ingest.times import Schedule

# A name's line breaks, one or several in a row, with the blanks around them: one space.
_WRAPPED = re.compile(r"[ \t]*[\r\n][ \t\r\n]*")
# A name of at most this many characters has a name key of at most NAME_KEY_MAX_BYTES
# bytes, whatever its characters: canonical decomposition makes at most 4 code points of a
# character (NFC composes some back, never more), collapsing whitespace makes nothing
# longer, and case folding makes at most 6 bytes of UTF-8 of a code point (U+0390, of 2
# bytes, folds to 6). tests/unit/test_hostile_input.py checks the 4 and the 6.
_SHORT_NAME = NAME_KEY_MAX_BYTES // (4 * 6)


class Performance(NamedTuple):
    """One set of one performer on one stage."""

    performer: str
    stage: str
    date: str
    start: str
    end: str
    raw_start: str
    raw_end: str
    line: int


@dataclass(frozen=True)
class RowError:
    """A row that could not be read, with the reason in words for the person who wrote it."""

    line: int
    reason: str


@dataclass
class ReadCounts:
    """What a read noted besides its rows: names in wrapped cells joined into one line."""

    names_joined: int = 0


def read_row(
    header: Header,
    cells: list[str],
    line: int,
    last_line: int,
    dirty: bool,
    schedule: Schedule,
    counts: ReadCounts | None = None,
) -> Performance | RowError | None:
    """A record from `line` to `last_line` read with every check, one at a time; None for a
    blank one. `dirty` when its lines may hold NUL bytes or bytes that are not UTF-8. A name
    in a wrapped cell (a record over several lines) is joined into one line, and counted."""
    if dirty:
        joined = "".join(cells)
        if NUL in joined:
            return RowError(line, NUL_REASON)
        if NOT_UTF8.search(joined):
            return RowError(line, f"The row is not valid UTF-8: {UTF8_HINT}")
    values = header.row(cells)
    if values is None:
        return None
    if isinstance(values, str):
        return RowError(line, note_run_on(values, line, last_line))
    performer, stage = values["performer"].strip(), values["stage"].strip()
    names_joined = 0
    if last_line > line:  # only a record over several lines may hold a wrapped name
        performer, stage, names_joined = _unwrapped(performer, stage)
    problems = [
        problem
        for column, name in (("performer", performer), ("stage", stage))
        if (problem := _name_problem(LABELS[column], name))
    ]
    when = schedule(values["date"], values["start"], values["end"])
    if isinstance(when, str):
        problems.append(when)
    if problems or isinstance(when, str):
        return RowError(line, "; ".join(problems))
    if names_joined and counts is not None:
        counts.names_joined += names_joined
    return Performance(performer, stage, *when, line)


def plain_names(performer: str, stage: str, checks: int) -> bool:
    """Whether the names of a row of a chunk that needs `checks` (lines.Lines.checks) surely
    fit in a key and hold no display control, so that the row needs no other check; else
    read_row."""
    # str.isprintable is false for every display control, and for a few harmless characters
    # too (a no-break space, a zero-width joiner), which read_row then accepts.
    return (
        checks == CHECK_NAMES
        and performer.isprintable()
        and stage.isprintable()
        and (len(performer) <= _SHORT_NAME or _name_fits(performer))
        and (len(stage) <= _SHORT_NAME or _name_fits(stage))
    )


def _unwrapped(performer: str, stage: str) -> tuple[str, str, int]:
    """The names with each run of line breaks, and the blanks around it, as one space; and
    how many of the two held one."""
    joined = 0
    if "\n" in performer or "\r" in performer:
        performer, joined = _WRAPPED.sub(" ", performer), joined + 1
    if "\n" in stage or "\r" in stage:
        stage, joined = _WRAPPED.sub(" ", stage), joined + 1
    return performer, stage, joined


def _name_fits(name: str) -> bool:
    """Whether the name key of a name is at most NAME_KEY_MAX_BYTES long."""
    return (
        len(name) <= _SHORT_NAME
        or (name.isascii() and len(name) <= NAME_KEY_MAX_BYTES)
        or _name_key_bytes(name) <= NAME_KEY_MAX_BYTES
    )


def _name_key_bytes(name: str) -> int:
    return len(name_key(name).encode("utf-8", "surrogatepass"))


def _name_problem(label: str, name: str) -> str | None:
    """What is wrong with a performer or stage name, or None."""
    if not name:
        return f"{label} is empty"
    control = DISPLAY_CONTROLS.search(name)
    if control is not None:
        return (
            f"{label} contains {describe(control.group())}, a character that changes how"
            " text is shown: remove it"
        )
    if _name_fits(name):
        return None
    written, in_key = len(name.encode("utf-8", "surrogatepass")), _name_key_bytes(name)
    size = f"{written:,} bytes long"
    if in_key != written:
        size += f" ({in_key:,} as it is kept for search, in lower case)"
    return (
        f"{label} is {size}; at most {NAME_KEY_MAX_BYTES:,} bytes fit (a letter of plain"
        " ASCII is one byte, an accented one two): shorten it"
    )
