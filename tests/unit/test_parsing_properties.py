"""Properties of the parser (lineup_ingest.parsing and its layers): any lineup written as CSV
reads back as written.

Lineups are written with the csv module in every form the parser accepts (column order, header
case and whitespace, extra columns, CRLF or LF, BOM, 24- or 12-hour times, blank lines, names
of any characters but display controls), and
junk of every kind must end in performances, row errors or a LineupFileError, nothing else.
"""

import csv
import datetime
import io
import re
import tracemalloc
from collections.abc import Iterator

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lineup_ingest.parsing import (
    REQUIRED_COLUMNS,
    LineupFileError,
    Performance,
    RowError,
    read_lineup,
)
from lineup_ingest.text import DISPLAY_CONTROLS
from tests.lineups import ChunkStream

LINE_BREAK = re.compile(r"\r\n|\r|\n")

# Every character UTF-8 can carry except NUL, with the ones CSV cares about made common.
CSV_SPECIALS = st.sampled_from([",", '"', "\n", "\r", " ", "\t", "é", "坂", "ø", "🎸"])
TEXT_CHARS = st.one_of(CSV_SPECIALS, st.characters(codec="utf-8", exclude_characters="\x00"))
# Names hold any character but those that change how text is shown, which are rejected.
NAME_CHARS = TEXT_CHARS.filter(lambda char: not DISPLAY_CONTROLS.match(char))
NAMES = st.text(NAME_CHARS, min_size=1, max_size=12).map(str.strip).filter(bool)
PADDING = st.sampled_from(["", " ", "  ", "\t"])
CLOCK_TIMES = st.builds(datetime.time, st.integers(0, 23), st.integers(0, 59))
DATES = st.dates(max_value=datetime.date(9999, 12, 30))
EXTRA_COLUMNS = st.text(TEXT_CHARS, max_size=8).filter(
    lambda name: name.strip().casefold() not in REQUIRED_COLUMNS
)

relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def random_case(draw: st.DrawFn, text: str) -> str:
    return "".join(char.upper() if draw(st.booleans()) else char.lower() for char in text)


@st.composite
def with_am_or_pm(draw: st.DrawFn, clock: datetime.time) -> str:
    """8:05 PM, 08:05pm, 8 PM, 12:30 am."""
    hour12 = clock.hour % 12 or 12
    hour = f"{hour12:02d}" if draw(st.booleans()) else str(hour12)
    minute = "" if clock.minute == 0 and draw(st.booleans()) else f":{clock.minute:02d}"
    meridiem = draw(random_case("pm" if clock.hour >= 12 else "am"))
    return f"{hour}{minute}{draw(PADDING)}{meridiem}"


@st.composite
def written_times(draw: st.DrawFn, clock: datetime.time) -> str:
    """A time as a person might type it: 20:05, 08:05, 8:05 PM, 8:05pm, 8 PM."""
    if draw(st.booleans()):
        hour = f"{clock.hour:02d}" if draw(st.booleans()) else str(clock.hour)
        return f"{hour}:{clock.minute:02d}"
    return draw(with_am_or_pm(clock))


@st.composite
def lineup_sets(draw: st.DrawFn) -> dict[str, str]:
    """The cells of one set as a person writes them, and the ISO start and end they mean."""
    day, start, end = draw(DATES), draw(CLOCK_TIMES), draw(CLOCK_TIMES)
    starts_at = datetime.datetime.combine(day, start)
    ends_at = datetime.datetime.combine(day, end)
    if ends_at <= starts_at:
        ends_at += datetime.timedelta(days=1)
    return {
        "performer": draw(NAMES),
        "stage": draw(NAMES),
        "date": day.isoformat(),
        "start": draw(written_times(start)),
        "end": draw(written_times(end)),
        "start_iso": starts_at.isoformat(timespec="minutes"),
        "end_iso": ends_at.isoformat(timespec="minutes"),
    }


@st.composite
def lineup_files(
    draw: st.DrawFn, written_sets: st.SearchStrategy[dict[str, str]] | None = None
) -> tuple[bytes, list[Performance]]:
    """A lineup written as CSV in any accepted form (its sets as lineup_sets writes them, unless
    given), and the performances it holds."""
    if written_sets is None:
        written_sets = lineup_sets()
    sets = draw(st.lists(written_sets, min_size=1, max_size=15))
    columns = draw(
        st.permutations(list(REQUIRED_COLUMNS) + draw(st.lists(EXTRA_COLUMNS, max_size=3)))
    )
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    # The csv writer only quotes the characters of its own line terminator, so a lone "\r"
    # in a name would go out unquoted with LF endings; quote everything then.
    quote_all = newline == "\n" or draw(st.booleans())
    out = io.StringIO()
    writer = csv.writer(
        out, lineterminator=newline, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )

    def blank_lines() -> None:
        for _ in range(draw(st.integers(0, 2))):
            out.write(draw(st.sampled_from(["", " ", "\t "])) + newline)

    blank_lines()
    writer.writerow(
        draw(PADDING) + draw(random_case(column)) + draw(PADDING)
        if column in REQUIRED_COLUMNS
        else column
        for column in columns
    )
    expected = []
    for cells in sets:
        blank_lines()
        line = len(LINE_BREAK.findall(out.getvalue())) + 1
        writer.writerow(
            draw(PADDING) + cells[column] + draw(PADDING)
            if column in REQUIRED_COLUMNS
            else draw(st.text(TEXT_CHARS, max_size=8))
            for column in columns
        )
        expected.append(
            Performance(
                performer=cells["performer"],
                stage=cells["stage"],
                date=cells["date"],
                start=cells["start_iso"],
                end=cells["end_iso"],
                raw_start=cells["start"],
                raw_end=cells["end"],
                line=line,
            )
        )
    blank_lines()
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + out.getvalue().encode(), expected


# Bytes that break CSV or UTF-8: NUL, Windows-1252 "é", a stray UTF-16 BOM, quotes, line ends.
JUNK_BYTES = st.one_of(
    st.sampled_from([b"\x00", b"\xe9", b"\xff\xfe", b'"', b",", b"\r", b"\n"]),
    st.binary(min_size=1, max_size=4),
)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """The bytes with a few random bytes overwritten, inserted or deleted."""
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(buffer)))
        junk = draw(JUNK_BYTES)
        kind = draw(st.sampled_from(["overwrite", "insert", "delete"]))
        if kind == "insert":
            buffer[at:at] = junk
        elif kind == "overwrite":
            buffer[at : at + len(junk)] = junk
        else:
            del buffer[at : at + len(junk)]
    return bytes(buffer)


JUNK_LINES = st.one_of(
    st.binary(max_size=40),
    st.text(TEXT_CHARS, max_size=40).map(str.encode),
    st.lists(st.text(TEXT_CHARS, max_size=10), max_size=8).map(
        lambda cells: ",".join(cells).encode()
    ),
)
JUNK_FILES = st.one_of(
    st.binary(max_size=300),
    st.lists(JUNK_LINES, max_size=20).map(b"\n".join),
    st.lists(JUNK_LINES, max_size=20).map(
        lambda lines: b"\n".join([b"Performer,Stage,Date,Start,End", *lines])
    ),
    lineup_files().flatmap(lambda lineup: mutated(lineup[0])),
)


def physical_lines(data: bytes) -> int:
    pieces = re.split(rb"\r\n|\r|\n", data)
    return len(pieces) - (pieces[-1] == b"")


@relaxed
@given(lineup_files())
def test_any_lineup_written_as_csv_reads_back_exactly(lineup):
    data, expected = lineup
    assert list(read_lineup(io.BytesIO(data))) == expected


@relaxed
@given(JUNK_FILES)
def test_junk_yields_only_performances_row_errors_or_a_file_error_before_any_row(data):
    items: list[Performance | RowError] = []
    try:
        items.extend(read_lineup(io.BytesIO(data)))
    except LineupFileError:
        assert items == []
        return
    assert all(isinstance(item, Performance | RowError) for item in items)
    lines = [item.line for item in items]
    assert lines == sorted(set(lines))
    assert all(1 <= line <= physical_lines(data) for line in lines)


@relaxed
@given(JUNK_FILES)
def test_performances_never_hold_garbled_characters(data):
    try:
        performances = [
            item for item in read_lineup(io.BytesIO(data)) if isinstance(item, Performance)
        ]
    except LineupFileError:
        return
    for performance in performances:
        for text in (
            performance.performer,
            performance.stage,
            performance.raw_start,
            performance.raw_end,
        ):
            assert not re.search("[\x00\ud800-\udfff]", text)


def without_line(performance: Performance) -> Performance:
    return performance._replace(line=0)


def is_subsequence(items: list[Performance], of: list[Performance]) -> bool:
    remaining = iter(of)
    return all(item in remaining for item in items)


@relaxed
@given(lineup_files(), st.sampled_from([b"\x00", b"\xe9", b"\xff"]), st.data())
def test_a_bad_byte_costs_at_most_the_row_it_lands_in(lineup, bad_byte, data):
    content, expected = lineup
    at = data.draw(st.integers(0, len(content)), label="at")
    # Any byte, good or bad, put just before an opening quote turns that quote into a literal
    # one, so a quoted line break after it splits the record in two: that is CSV, not UTF-8.
    assume(content[at : at + 1] != b'"')
    try:
        items = list(read_lineup(io.BytesIO(content[:at] + bad_byte + content[at:])))
    except LineupFileError:
        return  # it landed in the header
    # A byte between CR and LF makes two line breaks of one, so compare without lines.
    loaded = [without_line(item) for item in items if isinstance(item, Performance)]
    wanted = [without_line(performance) for performance in expected]
    assert is_subsequence(loaded, wanted) and len(loaded) >= len(wanted) - 1
    assert sum(isinstance(item, RowError) for item in items) == 1


def generated_lineup(rows: int) -> Iterator[bytes]:
    """A lineup of `rows` rows (a multiple of 1000), made on the fly from one repeated chunk."""
    chunk = "".join(
        f'"Band {n}, the",Stage {n % 7},2025-07-12,{n % 24}:00,{(n + 1) % 24}:30 ,é\r\n'
        for n in range(1000)
    ).encode()
    yield b"\xef\xbb\xbfPerformer,Stage,Date,Start,End,Notes\r\n"
    for _ in range(rows // 1000):
        yield chunk


def test_a_large_file_is_read_in_constant_memory():
    # Rows kept would take 14 MB at this count (measured), nearly three times the limit.
    rows = 50_000
    tracemalloc.start()
    try:
        count, last = 0, None
        for item in read_lineup(io.BufferedReader(ChunkStream(generated_lineup(rows)))):
            assert isinstance(item, Performance)
            count, last = count + 1, item
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows and last is not None and last.line == rows + 1
    assert peak < 5 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MiB"
