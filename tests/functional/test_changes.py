"""A re-upload's change report through the Lambda's handler on moto: the one email lists
exactly what changed, the whole list is kept after the replaced version's rows are
collected, and `festival changes` and the explorer's page read it back with Query only."""

from __future__ import annotations

import csv
import io
import json

import boto3
import pytest
from click.testing import CliRunner

from festival import cli
from festival.explorer import create_app
from festival.queries import LineupQueries
from lineup_ingest import schema
from tests.functional.conftest import REGION, TABLE
from tests.lineups import lineup_csv, lineup_rows
from tests.moto_aws import sent_operations
from tests.unit.test_changes import ROWS_V1, ROWS_V2

pytestmark = pytest.mark.functional

KEY = "uploads/lineup.csv"


def load(aws, rows: list[list[str]]) -> dict:
    """Upload, load, collect what the load queued; the one email."""
    aws.invoke(aws.upload(KEY, lineup_csv(rows)))
    aws.deliver_parts()
    [email] = aws.emails()
    return email


def queries() -> tuple[LineupQueries, list[str]]:
    """LineupQueries on moto, and the DynamoDB operations it calls."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    operations = sent_operations(dynamodb)
    return LineupQueries(dynamodb, TABLE), operations


def test_a_reupload_emails_exactly_what_changed_and_the_list_outlives_the_old_rows(aws):
    first = load(aws, ROWS_V1)
    assert "New file: no earlier upload of this key." in first["body"]
    second = load(aws, ROWS_V2)
    body = second["body"]
    assert second["subject"] == "festival-lineup OK: lineup.csv"
    assert ": 1 added, 1 removed, 1 moved\n" in body
    section = body[body.index("Changes since") : body.index("Details:")]
    listed = [line for line in section.splitlines() if line.startswith("  ")]
    assert listed == [
        "  Fred again..: Dance Tent, 2025-07-13 02:00-04:00",
        "  Peggy Gou: Dance Tent, 2025-07-12 22:00-00:00 (ends 2025-07-13)",
        "  Kraftwerk: Main Stage, 2025-07-12 23:59-01:15 (ends 2025-07-13)"
        " -> Dance Tent, 2025-07-13 00:30-01:30",
    ]
    # the first version's rows are collected; the change list is still there
    assert {item["version"]["S"] for item in aws.performances()} == {
        schema.sequence_key(v) for v in _versions(aws)[-1:]
    }
    asked, operations = queries()
    found = asked.changes(KEY)
    assert set(operations) == {"Query"}
    assert (found["state"], found["status"], found["counts"]) == (
        "compared",
        "OK",
        {"added": 1, "removed": 1, "moved": 1},
    )
    assert found["added"] == [
        {
            "performer": "Fred again..",
            "stage": "Dance Tent",
            "start": "2025-07-13T02:00",
            "end": "2025-07-13T04:00",
        }
    ]
    assert [s["performer"] for s in found["removed"]] == ["Peggy Gou"]
    assert found["moved"] == [
        {
            "performer": "Kraftwerk",
            "from": {"stage": "Main Stage", "start": "2025-07-12T23:59", "end": "2025-07-13T01:15"},
            "to": {"stage": "Dance Tent", "start": "2025-07-13T00:30", "end": "2025-07-13T01:30"},
        }
    ]
    earlier = asked.changes(KEY, version=found["previous"]["version"])
    assert (earlier["state"], earlier["note"]) == (
        "new",
        "New file: no earlier upload of this key.",
    )


def test_a_large_list_is_read_back_whole_from_several_chunks(aws, monkeypatch):
    from lineup_ingest import changes

    monkeypatch.setattr(changes, "CHUNK_BYTES", 500)
    rows = lineup_rows(120)
    load(aws, rows)
    renamed = [[f"{row[0]} (live)", *row[1:]] for row in rows]
    email = load(aws, renamed)
    assert "Added (first 20 of 120):" in email["body"]
    assert f"The whole list: `festival changes {KEY}`." in email["body"]
    found, _ = queries()
    whole = found.changes(KEY)
    assert len(whole["added"]) == len(whole["removed"]) == 120
    chunks = aws.dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": schema.changes_partition(KEY, whole["version"])}},
    )["Items"]
    assert len(chunks) > 1
    assert all(len(item["data"]["B"]) <= 500 for item in chunks)


def test_festival_changes_prints_the_report_and_json(aws, monkeypatch):
    load(aws, ROWS_V1)
    load(aws, ROWS_V2)
    monkeypatch.setattr(cli, "_queries", lambda ctx: queries()[0])
    runner = CliRunner()
    shown = runner.invoke(cli.main, ["changes", KEY])
    assert shown.exit_code == 0, shown.output
    assert "Changes since version" in shown.stdout
    assert "1 added, 1 removed, 1 moved" in shown.stdout
    assert "Fred again.." in shown.stdout and "Peggy Gou" in shown.stdout
    moved = [line for line in shown.stdout.splitlines() if line.startswith("Kraftwerk")]
    assert moved and "Main Stage" in moved[0] and "Dance Tent" in moved[0] and "->" in moved[0]
    as_json = runner.invoke(cli.main, ["changes", KEY, "--json"])
    assert json.loads(as_json.stdout)["counts"] == {"added": 1, "removed": 1, "moved": 1}
    unknown = runner.invoke(cli.main, ["changes", KEY, "--version", "FFFF"])
    assert unknown.exit_code == 1
    assert "no upload of 'uploads/lineup.csv' has a version starting 'FFFF'" in unknown.stderr
    nothing = runner.invoke(cli.main, ["changes", "uploads/none.csv"])
    assert nothing.exit_code == 1 and "no upload of 'uploads/none.csv'" in nothing.stderr


def test_festival_changes_files_compares_two_csv_files_as_the_function_reads_them(tmp_path):
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_bytes(lineup_csv(ROWS_V1))
    # the same set twice in another spelling is one set, as the table stores it
    new.write_bytes(
        lineup_csv([*ROWS_V2, ["BONOBO", "outdoor stage", "22:00", "2:00", "2025-07-12"]])
    )
    result = CliRunner().invoke(cli.main, ["changes", "--files", str(old), str(new), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["counts"] == {"added": 2, "removed": 2, "moved": 1}
    assert {s["performer"] for s in found["added"]} == {"Fred again..", "BONOBO"}
    both = CliRunner().invoke(cli.main, ["changes", KEY, "--files", str(old), str(new)])
    assert both.exit_code == 1 and "not both" in both.stderr


def test_festival_changes_csv_is_one_row_a_change_with_old_and_new_side_by_side(tmp_path):
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    old.write_bytes(lineup_csv(ROWS_V1))
    new.write_bytes(lineup_csv(ROWS_V2))
    result = CliRunner().invoke(cli.main, ["changes", "--files", str(old), str(new), "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        cli.CHANGE_COLUMNS,
        ["added", "Fred again..", "", "", "", "Dance Tent", "2025-07-13T02:00", "2025-07-13T04:00"],
        ["removed", "Peggy Gou", "Dance Tent", "2025-07-12T22:00", "2025-07-13T00:00", "", "", ""],
        [
            "moved",
            "Kraftwerk",
            "Main Stage",
            "2025-07-12T23:59",
            "2025-07-13T01:15",
            "Dance Tent",
            "2025-07-13T00:30",
            "2025-07-13T01:30",
        ],
    ]


def test_the_explorer_shows_an_uploads_changes_and_a_link_to_all_of_a_long_list(aws):
    rows = lineup_rows(110)
    load(aws, rows)
    load(aws, [*rows[:5], *([f"{r[0]} B", *r[1:]] for r in rows[5:])])
    asked, operations = queries()
    client = create_app(asked, uploader=None).test_client()
    page = client.get(f"/uploads/changes?file={KEY}").get_data(as_text=True)
    assert "105</strong> added" in page and "105</strong> removed" in page
    assert page.count('<tr class="change">') == 200  # the first 100 of each kind
    assert "all=1" in page
    everything = client.get(f"/uploads/changes?file={KEY}&all=1").get_data(as_text=True)
    assert everything.count('<tr class="change">') == 210
    assert set(operations) == {"Query"}
    uploads = client.get("/uploads").get_data(as_text=True)
    assert "/uploads/changes?file=uploads" in uploads
    missing = client.get("/uploads/changes?file=uploads/none.csv")
    assert missing.status_code == 404
    assert "no upload of" in missing.get_data(as_text=True)


def _versions(aws) -> list[str]:
    records = [
        item for item in aws.upload_records() if item.get("kind", {}).get("S", "upload") == "upload"
    ]
    return sorted(item["version"]["S"] for item in records)
