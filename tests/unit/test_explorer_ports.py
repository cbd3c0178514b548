"""The explorer's ports name what the real classes offer, in the same shape: mypy reads
`as_ports` (a port asking what a class lacks fails it), and the test compares parameters."""

from __future__ import annotations

import inspect

import pytest

from festival.explorer.ports import LineupReader, Uploader
from festival.explorer.uploader import S3Uploader
from festival.queries import LineupQueries


def as_ports(queries: LineupQueries, uploader: S3Uploader) -> tuple[LineupReader, Uploader]:
    return queries, uploader


def parameters(method) -> list[tuple[str, inspect._ParameterKind, object]]:
    return [
        (parameter.name, parameter.kind, parameter.default)
        for parameter in inspect.signature(method).parameters.values()
    ]


@pytest.mark.parametrize(("port", "real"), [(LineupReader, LineupQueries), (Uploader, S3Uploader)])
def test_each_method_of_a_port_takes_what_the_real_class_takes(port, real):
    methods = [name for name in vars(port) if not name.startswith("_")]

    assert methods
    for name in methods:
        assert parameters(getattr(port, name)) == parameters(getattr(real, name)), name
