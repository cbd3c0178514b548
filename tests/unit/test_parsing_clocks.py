"""Examples of the clocks times without AM/PM are read on, and how a file's clock is decided.

How one time or one set reads on each clock is in test_times.py.
"""

import io
from pathlib import Path

import pytest

from lineup_ingest.parsing import (
    CLOCK_HEAD_ROWS,
    CLOCKS,
    ClockDecision,
    LineupFileError,
    Performance,
    decide_clock,
    decide_clock_from_head,
    parse_clock,
    read_lineup,
)
from tests.unit.reading import HEADER, read, times_of

SEED = Path(__file__).resolve().parents[2] / "seed"

# The client's example data, byte for byte (/work/shared/brief/music-festival-example-data.csv):
# afternoon and evening sets, written without AM/PM and without a zero-padded hour; CRLF line
# ends, none after the last row.
CLIENT_EXAMPLE = b"""Performer,Stage,Start,End,Date
Chappell Roan,Main Stage,5:00,7:00,2025-07-12
Sabrina Carpenter,Side Stage,3:00,4:45,2025-07-12
Beabadoobee,Outdoor Stage ,8:15,10:30,2025-07-12
Billie Eilish,Outdoor Stage ,6:00,8:00,2025-07-12
Megan Thee Stallion,Main Stage,8:00,10:00,2025-07-12
Charli XCX ,Side Stage,4:45,6:30,2025-07-12
Olivia Rodrigo,Side Stage,7:00,9:00,2025-07-12
Rene Rapp,Outdoor Stage,4:30,5:30,2025-07-13
Troye Sivan,Side Stage,9:00,11:00,2025-07-13
BlackPink,Outdoor Stage ,6:00,9:00,2025-07-13
Bruno Mars,Main Stage,5:00,8:00,2025-07-13
Sabrina Carpenter,Main Stage,8:00,10:00,2025-07-13
Gracie Abrams,Outdoor Stage,9:00,11:00,2025-07-13""".replace(b"\n", b"\r\n")


# The client's example and the seed file


def test_client_example_is_decided_to_be_on_the_pm_clock():
    assert decide_clock_from_head(io.BytesIO(CLIENT_EXAMPLE)) == ClockDecision(
        "pm",
        "times have no AM/PM and no hour after 12: read as afternoon/evening, e.g. 5:00 -> 17:00",
    )


def test_client_example_on_the_pm_clock_holds_afternoon_and_evening_sets():
    items = read(CLIENT_EXAMPLE, "pm")
    assert len(items) == 13 and all(isinstance(item, Performance) for item in items)
    sets = {(item.performer, item.date): (item.start, item.end) for item in items}
    assert sets[("Olivia Rodrigo", "2025-07-12")] == ("2025-07-12T19:00", "2025-07-12T21:00")
    assert sets[("Troye Sivan", "2025-07-13")] == ("2025-07-13T21:00", "2025-07-13T23:00")
    assert sets[("Chappell Roan", "2025-07-12")] == ("2025-07-12T17:00", "2025-07-12T19:00")
    assert all("T15:00" <= start[10:] <= "T23:59" for start, _ in sets.values())


def test_client_example_keeps_its_times_as_written():
    olivia = read(CLIENT_EXAMPLE, "pm")[6]
    assert isinstance(olivia, Performance)
    assert (olivia.performer, olivia.raw_start, olivia.raw_end) == (
        "Olivia Rodrigo",
        "7:00",
        "9:00",
    )


def test_client_example_on_the_default_clock_is_read_as_morning_sets_as_before():
    olivia = read(CLIENT_EXAMPLE)[6]
    assert times_of(olivia) == ("2025-07-12T07:00", "2025-07-12T09:00")


def test_seed_lineup_is_decided_to_be_on_the_24_hour_clock_and_reads_unchanged():
    data = (SEED / "lineup.csv").read_bytes()
    decision = decide_clock_from_head(io.BytesIO(data))
    assert decision == ClockDecision(
        "24h", "times have an hour after 12 (e.g. 20:00): read on a 24-hour clock"
    )
    assert read(data, decision.clock) == read(data)


# Reading on a clock


def test_the_default_clock_is_the_24_hour_clock():
    assert read(CLIENT_EXAMPLE) == read(CLIENT_EXAMPLE, "24h")


def test_read_lineup_rejects_an_unknown_clock_before_reading_the_stream():
    class Unreadable(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            raise AssertionError("the stream was read")

    with pytest.raises(ValueError, match="clock must be '24h' or 'pm', not 'auto'"):
        next(read_lineup(Unreadable(), clock="auto"))


# Deciding the clock


@pytest.mark.parametrize(
    ("times", "decision"),
    [
        (
            ["5:00", "7:00", "12:30"],
            (
                "pm",
                "times have no AM/PM and no hour after 12: read as afternoon/evening,"
                " e.g. 5:00 -> 17:00",
            ),
        ),
        (
            ["12:00", "12:30", "7:00"],
            (
                "pm",
                "times have no AM/PM and no hour after 12: read as afternoon/evening,"
                " e.g. 7:00 -> 19:00",
            ),
        ),
        (
            ["12:00", "12:45"],
            (
                "pm",
                "times have no AM/PM and no hour after 12: read as afternoon/evening,"
                " e.g. 12:00 -> 12:00",
            ),
        ),
        (
            ["7:00", "9:00", "20:00", "22:00"],
            ("24h", "times have an hour after 12 (e.g. 20:00): read on a 24-hour clock"),
        ),
        (
            ["7:00", "0:30"],
            ("24h", "times have an hour 0 (e.g. 0:30): read on a 24-hour clock"),
        ),
        (
            ["7:00", "08:00"],
            ("24h", "times have a zero-padded hour (e.g. 08:00): read on a 24-hour clock"),
        ),
        (
            ["08:00", "0:30", "13:15"],
            ("24h", "times have an hour after 12 (e.g. 13:15): read on a 24-hour clock"),
        ),
        (
            ["8:00 PM", "9:30pm", "12:00 AM"],
            ("24h", "times have AM/PM: read as written"),
        ),
        (
            ["7:00", "8:00 PM"],
            (
                "24h",
                "some times have AM/PM (e.g. 8:00 PM): the others are read on a 24-hour"
                " clock, e.g. 7:00 -> 07:00",
            ),
        ),
        (
            ["3:00 PM", "20:00"],
            ("24h", "times have an hour after 12 (e.g. 20:00): read on a 24-hour clock"),
        ),
        ([], ("24h", "no times to judge by: read on a 24-hour clock")),
        (["", "noon", "8.00"], ("24h", "no times to judge by: read on a 24-hour clock")),
    ],
)
def test_decide_clock_gives_the_clock_and_a_reason_for_a_person(times, decision):
    assert decide_clock(times) == ClockDecision(*decision)


@pytest.mark.parametrize("not_a_time", ["25:00", "13:00 PM", "0:30 AM", "20", "20:00:00", "-1:00"])
def test_decide_clock_ignores_what_is_not_a_time(not_a_time):
    assert decide_clock(["7:00", not_a_time, "9:00"]).clock == "pm"


def test_decide_clock_reads_times_with_surrounding_blanks():
    assert decide_clock([" 7:00 ", "\t9:00"]).reason.endswith("e.g. 7:00 -> 19:00")
    assert decide_clock([" 20:00 "]).clock == "24h"


def test_decision_from_the_head_ignores_rows_that_are_errors():
    content = (
        HEADER
        + "A,B,2025-07-12,13:00 PM,21:00\n"  # 21:00 is in a row that is an error
        + ",B,2025-07-12,20:00,21:00\n"  # so is this one: no performer
        + "C,D,2025-07-12,7:00,9:00\n"
    )
    assert decide_clock_from_head(io.BytesIO(content.encode())).clock == "pm"


def rows_then_one_evening_set(rows_before: int) -> bytes:
    return (
        HEADER
        + "A,B,2025-07-12,7:00,9:00\n" * rows_before
        + "\n"  # a blank line is not a row
        + "C,D,2025-07-12,20:00,21:00\n"
    ).encode()


def test_decision_from_the_head_reads_the_first_1000_rows():
    assert CLOCK_HEAD_ROWS == 1000
    assert decide_clock_from_head(io.BytesIO(rows_then_one_evening_set(999))).clock == "24h"
    assert decide_clock_from_head(io.BytesIO(rows_then_one_evening_set(1000))).clock == "pm"


def test_decision_from_the_head_reads_little_more_than_the_head():
    head = (HEADER + "A,B,2025-07-12,7:00,9:00\n" * 1000).encode()
    stream = io.BytesIO(head + b"C,D,2025-07-12,20:00,21:00\n" * 100_000)
    assert decide_clock_from_head(stream).clock == "pm"
    assert stream.tell() <= len(head) + 64 * 1024


def test_decision_from_the_head_of_an_unusable_file_raises_its_file_error():
    with pytest.raises(LineupFileError, match="missing"):
        decide_clock_from_head(io.BytesIO(b"Performer,Stage\nA,B\n"))


# The setting


def test_clocks_are_auto_24h_and_pm():
    assert CLOCKS == ("auto", "24h", "pm")


@pytest.mark.parametrize(
    ("text", "clock"),
    [("auto", "auto"), (" AUTO ", "auto"), ("24h", "24h"), ("24H", "24h"), ("\tPm\n", "pm")],
)
def test_a_clock_setting_is_read_whatever_its_case_and_surrounding_spaces(text, clock):
    assert parse_clock(text) == clock


@pytest.mark.parametrize("text", ["", " ", "12h", "24", "am", "auto pm", "p m", "24 h"])
def test_a_bad_clock_setting_is_a_value_error_naming_the_accepted_values(text):
    with pytest.raises(ValueError) as raised:
        parse_clock(text)
    assert str(raised.value) == (
        f"'{text}' is not a clock for times without AM/PM: use auto (decided from the file),"
        " 24h (20:00 is 20:00, 8:00 is 08:00) or pm (7:00 is 19:00)"
    )
