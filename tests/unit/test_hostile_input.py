"""Hostile input never fails silently and never corrupts (issue 12).

Names too long for a key and names holding characters that change how text is shown are row
errors, the other rows load; and every key fits DynamoDB's limits whatever the file and its
S3 key. (The email: test_hostile_email.py.)
"""

from __future__ import annotations

import csv
import io
import sys
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineup_ingest import schema
from lineup_ingest.parsing import Performance, RowError, read_lineup
from lineup_ingest.text import DISPLAY_CONTROLS

HEADER = "Performer,Stage,Date,Start,End\n"
GOOD_ROW = "A,B,2025-07-12,20:00,21:00\n"
KEY_ATTRIBUTES = {
    "pk": "partition",
    "sk": "sort",
    "gsi1pk": "partition",
    "gsi1sk": "sort",
    "gsi2pk": "partition",
    "gsi2sk": "sort",
    "gsi3pk": "partition",
    "gsi3sk": "sort",
}
LIMITS = {"partition": schema.PARTITION_KEY_MAX_BYTES, "sort": schema.SORT_KEY_MAX_BYTES}


def read(csv_text: str) -> list[Performance | RowError]:
    return list(read_lineup(io.BytesIO(csv_text.encode("utf-8"))))


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def keys_within_limits(item: dict) -> bool:
    return all(utf8_bytes(item[name]) <= LIMITS[kind] for name, kind in KEY_ATTRIBUTES.items())


# An upload version: S3's sequencer of its event, as schema.sequence_key pads it; and the
# longest the sweep makes (one it gives an event S3 never delivered).
VERSION = schema.sequence_key("0055AED6DCD90281E5")
LONGEST_VERSION = schema.sequence_after(schema.sequence_key("F" * schema.SEQUENCE_WIDTH))


def item_of(performance: Performance, source_key: str = "uploads/lineup.csv") -> dict:
    return schema.performance_item(
        performance,
        source_key=source_key,
        load_id="e",
        uploaded_at="2025-07-01T00:00:00Z",
        version=LONGEST_VERSION,
    )


# Names too long for a key


def test_the_name_limit_is_what_the_tables_sort_key_leaves_for_two_names():
    # PERF#<start>#<stage>#<performer>: 5 + 16 + 1 + 1 bytes besides the names.
    assert schema.NAME_KEY_MAX_BYTES == (1024 - 23) // 2 == 500


def test_a_performer_too_long_for_a_key_is_a_row_error_and_the_other_rows_load():
    items = read(HEADER + GOOD_ROW + "P" * 1100 + ",Main,2025-07-12,20:00,21:00\n" + GOOD_ROW)
    assert [type(item) for item in items] == [Performance, RowError, Performance]
    assert items[1].line == 3
    assert items[1].reason.startswith("Performer is 1,100 bytes long; at most 500 bytes fit")


@pytest.mark.parametrize("column", ["performer", "stage"])
def test_a_name_of_500_bytes_loads_and_one_of_501_is_a_row_error(column):
    def row(name: str) -> str:
        performer, stage = (name, "B") if column == "performer" else ("A", name)
        return f"{performer},{stage},2025-07-12,20:00,21:00\n"

    fits, too_long = read(HEADER + row("x" * 500) + row("é" * 250 + "x"))
    assert isinstance(fits, Performance) and keys_within_limits(item_of(fits))
    assert too_long == RowError(
        3,
        (
            f"{column.capitalize()} is 501 bytes long; at most 500 bytes fit (a letter of plain"
            " ASCII is one byte, an accented one two): shorten it"
        ),
    )


def test_a_name_that_grows_past_the_limit_once_case_folded_is_a_row_error():
    # U+0390 is 2 bytes, and 6 once case-folded (three code points of 2 bytes).
    (error,) = read(HEADER + "\u0390" * 100 + ",B,2025-07-12,20:00,21:00\n")
    assert error == RowError(
        2,
        (
            "Performer is 200 bytes long (600 as it is kept for search, in lower case); at most"
            " 500 bytes fit (a letter of plain ASCII is one byte, an accented one two): shorten it"
        ),
    )


@pytest.mark.parametrize(
    "row",
    [
        '"{name}",B,2025-07-12,20:00,21:00\n',  # quoted
        "{name},Scène,2025-07-12,20:00,21:00\n",  # in a chunk that is not ASCII
        '{name},B,2025-07-12,20:00,21:00,"two\nlines"\n',  # a record over two lines
        "{name},B,2025-07-12,20:00,21:00,\x1b\n",  # in a chunk with a control character
    ],
    ids=["quoted", "non-ascii", "two-lines", "control"],
)
def test_a_name_too_long_is_caught_whatever_the_row_and_chunk_are_like(row):
    header = "Performer,Stage,Date,Start,End,Notes\n"
    items = read(header + GOOD_ROW + row.format(name="P" * 600) + GOOD_ROW)
    assert [type(item) for item in items] == [Performance, RowError, Performance]
    assert items[1].reason.startswith("Performer is 600 bytes long")


def test_a_name_of_20_characters_fits_whatever_its_characters():
    # The parser skips measuring names of up to 20 characters (500 // (4 * 6)): canonical
    # decomposition makes at most 4 code points of a character and case folding at most 6
    # bytes of a code point. Checked here against this Python's Unicode database.
    most_code_points = most_bytes = 0
    for code_point in range(sys.maxunicode + 1):
        if 0xD800 <= code_point <= 0xDFFF:
            continue
        char = chr(code_point)
        most_code_points = max(most_code_points, len(unicodedata.normalize("NFD", char)))
        most_bytes = max(most_bytes, utf8_bytes(char.casefold()))
    assert most_code_points <= 4 and most_bytes <= 6
    assert 20 * 4 * 6 <= schema.NAME_KEY_MAX_BYTES


# Characters that change how text is shown


@pytest.mark.parametrize(
    "char",
    [
        "\x1b",
        "\x07",
        "\x7f",
        "\x85",
        "\x9b",
        "\u202e",
        "\u202a",
        "\u2066",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
        "\u2028",
        "\ufff9",
    ],
)
@pytest.mark.parametrize("column", ["Performer", "Stage"])
def test_a_display_control_in_a_name_is_a_row_error_naming_it_and_the_other_rows_load(char, column):
    name = f"Evil{char}Band"
    performer, stage = (name, "B") if column == "Performer" else ("A", name)
    items = read(HEADER + GOOD_ROW + f'"{performer}","{stage}",2025-07-12,20:00,21:00\n' + GOOD_ROW)
    assert [type(item) for item in items] == [Performance, RowError, Performance]
    assert items[1].line == 3
    assert items[1].reason.startswith(f"{column} contains U+{ord(char):04X}")
    assert not DISPLAY_CONTROLS.search(items[1].reason)


def test_a_line_break_inside_a_quoted_name_is_read_as_one_space():
    # A wrapped spreadsheet cell: plain CSV (tests/unit/test_wrapped_names.py has the rest).
    items = read(HEADER + '"The Big\nTop",B,2025-07-12,20:00,21:00\n' + GOOD_ROW)
    assert isinstance(items[0], Performance) and items[0].performer == "The Big Top"
    assert items[0].line == 2
    assert isinstance(items[1], Performance) and items[1].line == 4


def test_a_bidi_override_is_named_as_a_person_reads_it():
    (error,) = read(HEADER + "A,Main\u202eegats,2025-07-12,20:00,21:00\n")
    assert error.reason.startswith("Stage contains U+202E (RIGHT-TO-LEFT OVERRIDE)")


@pytest.mark.parametrize(
    "name", ["The\tKnife", "Sigur\xa0Rós", "👩\u200d🎤 Band", "Zero\u200bWidth"]
)
def test_tabs_no_break_spaces_and_joiners_in_names_load(name):
    (row,) = read(HEADER + f"{name},Main,2025-07-12,20:00,21:00\n")
    assert isinstance(row, Performance) and row.performer == name


def test_a_display_control_outside_the_names_costs_nothing_and_is_escaped_in_reasons():
    header = "Performer,Stage,Date,Start,End,Notes\n"
    items = read(
        header + "A,B,2025-07-12,20:00,21:00,\x1b[2J\n" + "C,D,2025-07-12,20:00\x1b[2J,21:00,\n"
    )
    assert isinstance(items[0], Performance)
    assert items[1] == RowError(3, "Start '20:00\\x1b[2J' is not a time (use 20:00 or 8:00 PM)")


@pytest.mark.parametrize("shift", range(-4, 5))
@pytest.mark.parametrize("char", ["\x1b", "\u202e"])
def test_a_display_control_is_caught_in_a_line_that_runs_over_a_chunk_edge(shift, char):
    # The parser reads 32 KiB at a time and notes per chunk whether its names need checks.
    filler = "Performer 0000000,Main Stage,2025-07-12,20:00,21:00\n"
    head = HEADER + filler * (32 * 1024 // len(filler) - 2)
    padding = ",Main Stage,2025-07-12,20:00,21:00\n"
    # The bad character's first byte is `shift` bytes after the first chunk's end.
    head += "x" * (32 * 1024 + shift - 3 - len(head) - len(padding)) + padding
    items = read(head + f"Bad{char}Band,Main Stage,2025-07-12,20:00,21:00\n" + filler * 3)
    errors = [item for item in items if isinstance(item, RowError)]
    assert len(errors) == 1 and f"U+{ord(char):04X}" in errors[0].reason
    assert len(items) == head.count("\n") - 1 + 4


# Every key fits


def test_every_key_of_a_row_with_the_longest_names_and_s3_key_fits():
    (row,) = read(HEADER + "p" * 500 + "," + "s" * 500 + ",9999-12-30,23:59,0:30\n")
    source_key = "uploads/" + "é" * 508  # 1,024 bytes, S3's longest
    assert utf8_bytes(source_key) == schema.S3_KEY_MAX_BYTES
    item = item_of(row, source_key)
    assert keys_within_limits(item)
    assert utf8_bytes(item["sk"]) == 1023  # 23 + 500 + 500: a byte to spare


def test_the_file_partitions_of_a_1024_byte_s3_key_fit_without_hashing():
    source_key = "🎸" * 256  # 1,024 bytes
    for version in (VERSION, LONGEST_VERSION):
        partitions = schema.file_partitions(source_key, version)
        assert len(set(partitions)) == schema.FILE_SHARDS
        for shard, partition in enumerate(partitions):
            assert partition == f"FILE#{source_key}#V{version}#{shard:02d}"
            # 5 + 1,024 + 2 + 32 (33 for the sweep's) + 3 bytes
            assert utf8_bytes(partition) == 1066 + len(version) - 32
            assert utf8_bytes(partition) <= schema.PARTITION_KEY_MAX_BYTES


def test_a_1024_byte_s3_key_gets_record_and_head_keys_within_limits():
    source_key = "uploads/" + "é" * 508
    record = schema.upload_record_key(source_key, LONGEST_VERSION)
    assert record["sk"].startswith("FILEHASH#uploads/éé")
    assert record["sk"].endswith(f"#V#{LONGEST_VERSION}")
    for key in (
        record,
        schema.removal_record_key(source_key, LONGEST_VERSION),
        schema.head_key(source_key),
        schema.part_done_key(source_key, LONGEST_VERSION, 999_999),
        schema.part_queued_key(source_key, LONGEST_VERSION, 999_999),
    ):
        assert utf8_bytes(key["pk"]) <= schema.PARTITION_KEY_MAX_BYTES
        assert utf8_bytes(key["sk"]) <= schema.SORT_KEY_MAX_BYTES


def test_short_s3_keys_keep_their_readable_record_and_head_keys():
    assert schema.upload_record_key("uploads/lineup.csv", VERSION) == {
        "pk": "UPLOADS",
        "sk": f"FILE#uploads/lineup.csv#V#{VERSION}",
    }
    assert schema.removal_record_key("uploads/lineup.csv", VERSION) == {
        "pk": "UPLOADS",
        "sk": f"FILE#uploads/lineup.csv#REMOVED#{VERSION}",
    }
    assert schema.head_key("uploads/lineup.csv") == {
        "pk": "HEADS",
        "sk": "FILE#uploads/lineup.csv",
    }
    longest_readable = "k" * 949
    assert schema.upload_record_key(longest_readable, "e" * 64)["sk"] == (
        f"FILE#{longest_readable}#V#{'e' * 64}"
    )
    assert utf8_bytes(schema.upload_record_key(longest_readable, "e" * 64)["sk"]) <= (
        schema.SORT_KEY_MAX_BYTES
    )
    assert schema.upload_record_key(longest_readable + "k", "e")["sk"].startswith("FILEHASH#")


@pytest.mark.parametrize("length", [900, 949, 950, 1000, 1024])
def test_the_record_key_without_a_version_is_a_prefix_of_every_versions_record_key(length):
    source_key = "k" * length
    prefix = schema.upload_record_key(source_key, "")["sk"]
    for version in ("abc", VERSION, LONGEST_VERSION, "x" * 100):
        sort_key = schema.upload_record_key(source_key, version)["sk"]
        assert sort_key.startswith(prefix)
        assert utf8_bytes(sort_key) <= schema.SORT_KEY_MAX_BYTES


def test_the_record_keys_of_a_files_versions_sort_in_version_order():
    versions = [schema.sequence_key(f"{n:018X}") for n in (9, 0xA, 0xFF, 0x100, 0x0055AED6DCD9)]
    for source_key in ("uploads/lineup.csv", "k" * 1000):
        keys = [schema.upload_record_key(source_key, version)["sk"] for version in versions]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)


@pytest.mark.parametrize(
    "source_key", ["uploads/a.csv", "uploads/a.csv#V1#00", "uploads/a.csv#V", "#", "🎸" * 256]
)
def test_no_two_versions_of_any_files_share_a_partition(source_key):
    # A version is hexadecimal (and the sweep's R): the partition's last two #-separated
    # parts are always the version and the shard, whatever the S3 key holds.
    for version in (VERSION, LONGEST_VERSION):
        for shard, partition in enumerate(schema.file_partitions(source_key, version)):
            assert partition.rsplit("#", 2) == [f"FILE#{source_key}", f"V{version}", f"{shard:02d}"]


def test_long_s3_keys_that_share_their_first_800_bytes_get_different_record_keys():
    first = "uploads/" + "a" * 900 + "/day-1.csv"
    second = "uploads/" + "a" * 900 + "/day-2.csv"
    assert schema.upload_record_key(first, "e") != schema.upload_record_key(second, "e")


def test_no_s3_key_gets_the_record_key_of_another():
    long_key = "x" * 1000
    hashed = schema.upload_record_key(long_key, "e")["sk"]
    # A short key written to look like a long key's record key gets a key of its own.
    impostor = hashed.removeprefix("FILEHASH#").removesuffix("#V#e")
    assert schema.upload_record_key(impostor, "e")["sk"] != hashed


# Any name the parser lets through fits in every key

NAME_CHARS = st.one_of(
    st.sampled_from(["a", "Z", " ", "é", "ß", "\u0390", "\U0001d160", "坂", "\ufb2c", "\u0130"]),
    st.characters(codec="utf-8", exclude_characters='\x00",\r\n'),
)
LONG_NAMES = st.one_of(
    st.text(NAME_CHARS, min_size=1, max_size=30),
    st.integers(0, 700).flatmap(lambda size: st.text(NAME_CHARS, min_size=size, max_size=size)),
    st.builds(lambda char, count: char * count, NAME_CHARS, st.integers(15, 600)),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(st.lists(st.tuples(LONG_NAMES, LONG_NAMES), min_size=1, max_size=4))
def test_any_name_the_parser_lets_through_fits_in_every_key_and_no_other_is_refused(names):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["Performer", "Stage", "Date", "Start", "End"])
    for performer, stage in names:
        writer.writerow([performer, stage, "2025-07-12", "20:00", "21:00"])
    items = list(read_lineup(io.BytesIO(out.getvalue().encode("utf-8"))))
    for item, (performer, stage) in zip(items, names, strict=True):
        fits = all(
            name.strip()
            and not DISPLAY_CONTROLS.search(name.strip())
            and utf8_bytes(schema.name_key(name)) <= schema.NAME_KEY_MAX_BYTES
            for name in (performer, stage)
        )
        assert isinstance(item, Performance) == fits
        if isinstance(item, Performance):
            assert keys_within_limits(item_of(item, "🎸" * 256))
