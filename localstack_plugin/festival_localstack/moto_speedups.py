"""Two of moto's DynamoDB costs that DynamoDB does not make a client wait for, removed.

Profiled under LocalStack (py-spy), they were most of the emulator's CPU while loading:

- Storing an item re-measured every attribute already set each time one more was set
  (``LimitedSizeDict.__setitem__``): quadratic in the attributes of every item written.
- Every ``Query`` sorted the whole table (``Table.all_items``) before keeping one partition.
  ``moto_index`` gives each table sorted partitions per index instead, so a Query costs
  what it returns.

Results are unchanged: the same size limit, and moto's own answers to every Query
(``moto_index`` says how that is kept and tested).
"""

from __future__ import annotations

import inspect
import logging

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize

from festival_localstack import moto_index, versions

# moto's own limit (the documented 400 KB, with the slack moto measured on AWS).
ITEM_SIZE_LIMIT = 405_000
LOG = logging.getLogger(__name__)


def _item_init_measured_once(item, hash_key, range_key, attrs) -> None:
    values = {name: DynamoType(value) for name, value in attrs.items()}
    size = sum(bytesize(name) + value.size() for name, value in values.items())
    if size > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    # Item.size() as it is now, for moto_index (an UpdateItem changes the item: not then).
    item.festival_size = size  # type: ignore[attr-defined]
    item.hash_key, item.range_key = hash_key, range_key
    item.attrs = LimitedSizeDict()
    dict.update(item.attrs, values)  # measured above: skip the per-attribute re-measure


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def apply() -> None:
    """Patch moto's classes once, in the LocalStack process that loads our provider.

    Only on the moto-ext release written for (``versions``), and each patch only for the
    moto signatures it was written against; otherwise moto is left as it is: slower,
    never wrong.
    """
    if getattr(Table.query, "__festival_indexed__", False):
        return
    if not versions.written_for("moto's DynamoDB speedups", "moto-ext"):
        return
    # Replacing methods is the point here: the type: ignores say so to mypy.
    if _parameters(Item.__init__) == ["self", "hash_key", "range_key", "attrs"]:
        Item.__init__ = _item_init_measured_once  # type: ignore[method-assign,assignment]
    else:
        LOG.warning("moto's Item changed: its size check is left quadratic")
    moto_index.apply()
