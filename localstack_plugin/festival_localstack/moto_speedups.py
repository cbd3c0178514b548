"""Two of moto's DynamoDB costs that DynamoDB does not make a client wait for, removed.

Profiled under LocalStack (py-spy), they were most of the emulator's CPU while loading:

- Storing an item re-measured every attribute already set each time one more was set
  (``LimitedSizeDict.__setitem__``): quadratic in the attributes of every item written.
- Every ``Query`` sorted the whole table (``Table.all_items``) before keeping one partition.
  DynamoDB reads only the partition asked for, so a Query's cost here now grows with the
  partition (base table) or with a plain pass over the table (an index), not with a sort.

Results are unchanged: the same size limit, and Query still orders what it returns itself
(``Table.sorted_items`` for an index, by range key for the base table).
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize

from festival_localstack import versions

# moto's own limit (the documented 400 KB, with the slack moto measured on AWS).
ITEM_SIZE_LIMIT = 405_000
_query_scope = threading.local()
LOG = logging.getLogger(__name__)


def _item_init_measured_once(item, hash_key, range_key, attrs) -> None:
    values = {name: DynamoType(value) for name, value in attrs.items()}
    if sum(bytesize(name) + value.size() for name, value in values.items()) > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    item.hash_key, item.range_key = hash_key, range_key
    item.attrs = LimitedSizeDict()
    dict.update(item.attrs, values)  # measured above: skip the per-attribute re-measure


def _scoped_to_query(all_items):
    @functools.wraps(all_items)
    def items_for_query(table: Table) -> list:
        scope = getattr(_query_scope, "table", None)
        if scope is not table:
            return all_items(table)
        if _query_scope.index_name or not table.range_key_attr:
            return [
                item
                for partition in table.items.values()
                for item in (partition.values() if table.range_key_attr else [partition])
            ]
        return list(table.items.get(_query_scope.hash_key, {}).values())

    return items_for_query


def _query_in_scope(query, index_name_at: int):
    """``index_name_at``: where index_name falls among the arguments after hash_key."""

    @functools.wraps(query)
    def scoped_query(table: Table, hash_key, *args, **kwargs):
        index_name = args[index_name_at] if len(args) > index_name_at else kwargs.get("index_name")
        _query_scope.table, _query_scope.hash_key = table, hash_key
        _query_scope.index_name = index_name
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            _query_scope.table = None

    return scoped_query


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def apply() -> None:
    """Patch moto's classes once, in the LocalStack process that loads our provider.

    Only on the moto-ext release written for (``versions``), and each patch only for the
    moto signatures it was written against; otherwise moto is left as it is: slower,
    never wrong.
    """
    if getattr(Table.query, "__festival_scoped__", False):
        return
    if not versions.written_for("moto's DynamoDB speedups", "moto-ext"):
        return
    # Replacing methods is the point here: the type: ignores say so to mypy.
    if _parameters(Item.__init__) == ["self", "hash_key", "range_key", "attrs"]:
        Item.__init__ = _item_init_measured_once  # type: ignore[method-assign,assignment]
    else:
        LOG.warning("moto's Item changed: its size check is left quadratic")
    query_parameters = _parameters(Table.query)
    if "index_name" in query_parameters and _parameters(Table.all_items) == ["self"]:
        after_hash_key = query_parameters.index("index_name") - 2  # self, hash_key
        Table.all_items = _scoped_to_query(Table.all_items)  # type: ignore[method-assign]
        Table.query = _query_in_scope(Table.query, after_hash_key)  # type: ignore[method-assign]
        Table.query.__festival_scoped__ = True  # type: ignore[attr-defined]
    else:
        LOG.warning("moto's Table.query changed: every Query still sorts the whole table")
