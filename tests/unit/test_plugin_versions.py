"""The plugin patches LocalStack's and moto's internals only on the releases it was written for.

Run here without LocalStack: the project's own moto (not moto-ext) stands in for another
release.
"""

from __future__ import annotations

import logging
import re
from importlib import metadata
from pathlib import Path

import pytest
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from festival.local import paths
from festival_localstack import moto_index, moto_speedups, versions

KIT = Path(__file__).resolve().parents[2] / "kit"


@pytest.fixture
def releases(monkeypatch):
    """Installed releases as the test says: name -> release, absent means not installed."""
    installed: dict[str, str] = {}

    def version(distribution: str) -> str:
        if distribution not in installed:
            raise metadata.PackageNotFoundError(distribution)
        return installed[distribution]

    monkeypatch.setattr(versions.metadata, "version", version)
    return installed


@pytest.fixture
def moto_restored(monkeypatch):
    """Whatever a test patches in moto's classes is put back after it."""
    for cls, name in (
        (Item, "__init__"),
        (Table, "query"),
        (Table, "all_items"),
        (Table, "put_item"),
        (Table, "delete_item"),
        (Table, "scan"),
    ):
        monkeypatch.setattr(cls, name, getattr(cls, name))


def test_a_patch_applies_on_the_releases_it_was_written_for(releases, caplog):
    releases.update(versions.WRITTEN_FOR)

    assert versions.written_for("the patch", "localstack-core", "moto-ext") is True
    assert caplog.records == []


def test_on_another_release_a_patch_is_left_out_with_a_warning_naming_both(releases, caplog):
    releases.update({"localstack-core": "4.15.0", "moto-ext": versions.WRITTEN_FOR["moto-ext"]})

    with caplog.at_level(logging.WARNING):
        assert versions.written_for("the patch", "localstack-core", "moto-ext") is False

    (warning,) = caplog.records
    assert warning.levelno == logging.WARNING
    assert "the patch is not applied" in warning.getMessage()
    assert "localstack-core 4.15.0 (written for 4.14.0)" in warning.getMessage()
    assert "moto-ext" not in warning.getMessage()


def test_a_distribution_that_is_not_installed_counts_as_another_release(releases, caplog):
    with caplog.at_level(logging.WARNING):
        assert versions.written_for("the patch", "moto-ext") is False
    assert "moto-ext not installed" in caplog.text


def test_on_another_moto_release_moto_is_left_alone_with_a_warning(moto_restored, caplog):
    # This environment has moto, not moto-ext: another release, as far as the gate knows.
    original = (Item.__init__, Table.query, Table.all_items)

    with caplog.at_level(logging.WARNING):
        moto_speedups.apply()

    assert (Item.__init__, Table.query, Table.all_items) == original
    assert "moto's DynamoDB speedups is not applied" in caplog.text


def test_on_the_moto_release_written_for_the_speedups_are_applied(moto_restored, monkeypatch):
    monkeypatch.setattr(versions, "installed_release", versions.WRITTEN_FOR.get)

    moto_speedups.apply()

    assert Item.__init__ is moto_speedups._item_init_measured_once


def test_moto_s_query_is_indexed_only_where_its_signatures_are_those_written_for(
    moto_restored, caplog
):
    # This environment's moto 5.2 added parameters to Table.query: the index stays out.
    original = Table.query

    with caplog.at_level(logging.WARNING):
        assert moto_index.apply() is False

    assert Table.query is original
    assert "Table.query" in caplog.text


def test_the_releases_written_for_are_the_ones_the_kit_installs():
    requirements = (KIT / "emulator-requirements.txt").read_text()
    constraints = (KIT / "emulator-constraints.txt").read_text()
    pins = dict(re.findall(r"^([\w-]+)(?:\[\w+\])?==(\S+)", requirements + constraints, re.M))

    assert versions.WRITTEN_FOR == {name: pins[name] for name in versions.WRITTEN_FOR}
    assert versions.WRITTEN_FOR["localstack-core"] == paths.LOCALSTACK_VERSION
