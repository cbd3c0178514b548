"""Clashes (lineup_ingest.clashes): examples, and properties against a brute-force oracle."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lineup_ingest.clashes import (
    ClashCounts,
    Slot,
    count_clashes,
    counted,
    find_clashes,
    not_counted,
    summary_line,
)
from lineup_ingest.schema import name_key

DAY = datetime(2025, 7, 12)


def at(hour_minute: str, day: int = 0) -> str:
    hour, minute = map(int, hour_minute.split(":"))
    return (DAY + timedelta(days=day, hours=hour, minutes=minute)).strftime("%Y-%m-%dT%H:%M")


def slot(performer: str, stage: str, start: str, end: str, line: int = 0) -> Slot:
    end_day = 1 if end < start else 0
    return Slot(performer, stage, at(start), at(end, end_day), "uploads/x.csv", line)


def pairs(found) -> list[tuple[str, str, int]]:
    return [(a.performer, b.performer, minutes) for a, b, minutes in found]


def test_the_three_kinds_are_found_each_once():
    slots = [
        slot("A", "Main", "20:00", "21:00"),
        slot("B", "Main", "20:30", "21:30"),  # overlaps A on Main by 30 minutes
        slot("C", "Tent", "20:00", "21:00"),
        slot("C", "Park", "20:45", "22:00"),  # C on two stages for 15 minutes
        slot("D", "Park", "22:05", "23:00"),  # 5 minutes after C on Park
    ]
    found = find_clashes(slots)
    assert pairs(found.stage_overlaps) == [("A", "B", 30)]
    assert pairs(found.double_bookings) == [("C", "C", 15)]
    assert pairs(found.short_changeovers) == [("C", "D", 5)]
    assert found.counts() == count_clashes(slots) == ClashCounts(1, 1, 1)


def test_sets_touching_end_to_start_do_not_overlap_and_are_a_changeover_of_zero():
    slots = [slot("A", "Main", "20:00", "21:00"), slot("B", "Main", "21:00", "22:00")]
    found = find_clashes(slots)
    assert found.stage_overlaps == []
    assert pairs(found.short_changeovers) == [("A", "B", 0)]


@pytest.mark.parametrize(("gap", "short"), [(14, True), (15, False), (16, False)])
def test_a_changeover_is_short_when_under_the_minimum(gap, short):
    end = at("21:00")
    start = (datetime.fromisoformat(end) + timedelta(minutes=gap)).strftime("%H:%M")
    slots = [slot("A", "Main", "20:00", "21:00"), slot("B", "Main", start, "23:00")]
    assert len(find_clashes(slots).short_changeovers) == short
    assert count_clashes(slots).short_changeovers == short


def test_the_minimum_is_a_parameter_and_zero_finds_none():
    slots = [slot("A", "Main", "20:00", "21:00"), slot("B", "Main", "21:25", "22:00")]
    assert pairs(find_clashes(slots, 30).short_changeovers) == [("A", "B", 25)]
    assert find_clashes(slots, 0).short_changeovers == []
    with pytest.raises(ValueError):
        find_clashes(slots, -1)


def test_a_changeover_runs_from_the_latest_end_before_the_set_not_the_previous_start():
    slots = [
        slot("Long", "Main", "18:00", "20:00"),
        slot("Short", "Main", "18:30", "19:00"),  # inside Long: an overlap
        slot("Next", "Main", "20:05", "21:00"),  # 5 minutes after Long ends
    ]
    found = find_clashes(slots)
    assert pairs(found.stage_overlaps) == [("Long", "Short", 30)]
    assert pairs(found.short_changeovers) == [("Long", "Next", 5)]


def test_a_set_overlapping_another_has_no_changeover_of_its_own():
    slots = [
        slot("A", "Main", "19:00", "20:00"),
        slot("B", "Main", "20:05", "21:00"),
        slot("C", "Main", "20:05", "22:00"),  # starts with B: overlaps it
    ]
    found = find_clashes(slots)
    assert pairs(found.short_changeovers) == [("A", "B", 5)]
    assert pairs(found.stage_overlaps) == [("B", "C", 55)]


def test_the_same_performer_twice_on_one_stage_is_a_stage_overlap_not_a_double_booking():
    slots = [slot("A", "Main", "20:00", "21:00"), slot("A", "Main", "20:30", "21:30")]
    found = find_clashes(slots)
    assert len(found.stage_overlaps) == 1 and found.double_bookings == []


def test_names_are_told_apart_by_their_keys_and_duplicates_are_one_set():
    slots = [
        slot("Sigur Rós", "Main Stage", "20:00", "21:00", line=2),
        Slot("SIGUR  RÓS", " main stage ", at("20:00"), at("21:00"), "uploads/copy.csv", 9),
        slot("sigur rós", "Tent", "20:30", "21:30"),
    ]
    found = find_clashes(slots)
    assert found.stage_overlaps == []  # the first two are one set, the first kept
    assert [(a.line, b.stage) for a, b, _ in found.double_bookings] == [(2, "Tent")]


def test_sets_past_midnight_clash_with_the_next_days_sets():
    slots = [slot("A", "Main", "23:30", "01:30"), Slot("B", "Main", at("01:00", 1), at("02:00", 1))]
    assert pairs(find_clashes(slots).stage_overlaps) == [("A", "B", 30)]


def test_clashes_starting_in_a_window_are_those_whose_later_set_starts_there():
    slots = [
        slot("A", "Main", "05:00", "07:00"),
        slot("B", "Main", "05:30", "06:30"),  # later set before 06:00
        slot("C", "Main", "06:10", "08:00"),  # later set after 06:00, overlaps A and B
    ]
    assert len(find_clashes(slots).stage_overlaps) == 3
    night = find_clashes(slots).starting_in(at("06:00"), at("06:00", 1))
    assert pairs(night.stage_overlaps) == [("A", "C", 50), ("B", "C", 20)]


def test_counting_is_fast_however_many_pairs_there_are():
    everyone = [Slot(f"P{n}", "Main", at("20:00"), at(f"{21 + n % 3}:00")) for n in range(3000)]
    began = time.perf_counter()
    counts = count_clashes(everyone)
    assert time.perf_counter() - began < 2
    assert counts.stage_overlaps == 3000 * 2999 // 2


def test_a_set_is_read_from_a_stored_row_or_an_answer():
    row = {"performer": "A", "stage": "B", "start": at("20:00"), "end": at("21:00")}
    assert Slot.of({**row, "source_key": "uploads/x.csv", "source_line": 7}).line == 7
    assert Slot.of({**row, "source_file": "uploads/y.csv"}).file == "uploads/y.csv"
    assert Slot.of(row) == Slot("A", "B", at("20:00"), at("21:00"))


def test_the_email_line_says_the_counts_none_or_why_not_counted():
    assert summary_line(None) is None
    assert summary_line(counted(ClashCounts(1, 1, 1), 15)) == (
        "Clashes:       1 stage overlap, 1 double booking, 1 changeover under 15 min"
        " (festival clashes lists them)"
    )
    assert "2 stage overlaps, 0 double bookings, 3 changeovers under 10 min" in str(
        summary_line(counted(ClashCounts(2, 0, 3), 10))
    )
    assert summary_line(counted(ClashCounts(0, 0, 0), 15)).startswith("Clashes:       none")
    line = summary_line(not_counted(1_200_000))
    assert line == (
        "Clashes:       not counted (1,200,000 rows, more than the 100,000 counted as a file"
        " loads): run festival clashes"
    )


# --- properties against a brute-force oracle -------------------------------------------------


def _minutes(moment: str) -> int:
    return int(datetime.fromisoformat(moment).timestamp() // 60)


def oracle(slots: list[Slot], minimum: int):
    """The definitions, pair by pair: O(n^2)."""
    kept: dict[tuple[str, str, str], Slot] = {}
    for s in slots:
        kept.setdefault((name_key(s.performer), name_key(s.stage), s.start), s)

    def order(s: Slot):
        return (_minutes(s.start), _minutes(s.end), name_key(s.stage), name_key(s.performer))

    ordered = sorted(kept.values(), key=order)

    def overlapping(a: Slot, b: Slot) -> bool:
        return a.start < b.end and b.start < a.end

    def minutes(a: Slot, b: Slot) -> int:
        return _minutes(min(a.end, b.end)) - _minutes(max(a.start, b.start))

    stage, double, short = [], [], []
    for j, b in enumerate(ordered):
        for a in ordered[:j]:
            if not overlapping(a, b):
                continue
            if name_key(a.stage) == name_key(b.stage):
                stage.append((a, b, minutes(a, b)))
            elif name_key(a.performer) == name_key(b.performer):
                double.append((a, b, minutes(a, b)))
        before = [a for a in ordered[:j] if name_key(a.stage) == name_key(b.stage)]
        if before:
            latest = max(a.end for a in before)
            gap = _minutes(b.start) - _minutes(latest)
            if 0 <= gap < minimum:
                short.append((next(a for a in before if a.end == latest), b, gap))
    return stage, double, short


@st.composite
def lineups(draw) -> list[Slot]:
    count = draw(st.integers(0, 30))
    slots: list[Slot] = []
    for _ in range(count):
        start = draw(st.integers(0, 48)) * 15  # 12 hours in steps of 15 minutes
        length = draw(st.sampled_from([5, 10, 15, 30, 45, 60, 90, 180]))
        begin = DAY + timedelta(hours=18, minutes=start)
        slots.append(
            Slot(
                draw(st.sampled_from(["A", "a ", "B", "C", "Dj  X", "dj x"])),
                draw(st.sampled_from(["Main", " MAIN", "Tent", "Park"])),
                begin.strftime("%Y-%m-%dT%H:%M"),
                (begin + timedelta(minutes=length)).strftime("%Y-%m-%dT%H:%M"),
                "uploads/x.csv",
                len(slots) + 2,
            )
        )
    return slots


@settings(max_examples=300, deadline=None)
@given(lineups(), st.sampled_from([0, 5, 15, 30, 60]))
def test_clashes_are_exactly_those_of_the_brute_force_oracle(slots, minimum):
    stage, double, short = oracle(slots, minimum)
    found = find_clashes(slots, minimum)
    assert [tuple(o) for o in found.stage_overlaps] == stage
    assert [tuple(o) for o in found.double_bookings] == double
    assert [tuple(c) for c in found.short_changeovers] == short
    assert count_clashes(slots, minimum) == found.counts()


@settings(max_examples=100, deadline=None)
@given(lineups(), st.randoms(use_true_random=False))
def test_the_order_of_the_sets_given_changes_nothing_but_which_duplicate_is_kept(slots, rng):
    unique = list({(name_key(s.performer), name_key(s.stage), s.start): s for s in slots}.values())
    shuffled = list(unique)
    rng.shuffle(shuffled)
    assert find_clashes(shuffled) == find_clashes(unique)
