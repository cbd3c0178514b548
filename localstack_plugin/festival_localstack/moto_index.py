"""Sorted indexes for moto's DynamoDB tables: a Query costs what it returns, as on DynamoDB.

moto answers a Query by walking every item of the table, keeping the partition asked for
and sorting it (for an index, the whole table's matching items): seconds per page with a
few hundred thousand rows. Here each table keeps, per index (and for the table itself),
its partitions as sorted lists of keys, so a Query finds its first item by bisection and
reads the items it returns, in O(log n + page).

Answers are moto's own, item for item: the same order (moto sorts an index by index hash,
index range, table hash, table range), the same ``ExclusiveStartKey`` cut (moto's own
``_item_comes_before_dct``, by bisection), the same ``Limit`` and 1 MB page rules (moto
also ends a page on an item past the key range: reproduced), moto's own range comparison,
projection and filter code. Whatever the index cannot answer exactly, moto answers as it
always did: legacy ``QueryFilter`` arguments, errors (unknown index, consistent read on a
GSI...), a range key of a type the table does not declare, ``Limit`` below 1.

Consistency: every path by which moto stores, replaces, removes or changes an item goes
through ``Table.put_item``, ``Table.delete_item`` or ``DynamoDBBackend.update_item`` (batch
writes, transactions and PartiQL call these); each is wrapped to move the item's index
entries. A table is indexed from its first write or Query on; a table object replaced
whole (a transaction rolled back, a restore, a table deleted and created again) is a new
table. A change of the table's index schema, or a count that no longer matches the
table's (an item stored another way), rebuilds the table's indexes at the next Query, with
a warning for the latter.

All of it runs under ``LOCK``, one re-entrant lock the provider also holds around every
DynamoDB request: moto's structures are plain dicts, and a Scan walking them while a batch
write added items failed with "dictionary changed size during iteration".
"""

from __future__ import annotations

import bisect
import functools
import inspect
import logging
import threading
import weakref
from collections import Counter
from collections.abc import Iterator
from typing import Any, Literal, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, GlobalSecondaryIndex, Table

LOG = logging.getLogger(__name__)
LOCK = threading.RLock()
_SERIALIZER, _DESERIALIZER = TypeSerializer(), TypeDeserializer()  # moto's Item.project's
# Queries answered from the index, and by moto's own code (what the index leaves to it).
ANSWERED: Counter[str] = Counter()
_nesting = threading.local()
# Sort-key types whose moto ordering (``DynamoType.cast_value``) is a total order here.
ORDERED_TYPES = frozenset({"S", "N", "B"})
BLOCK = 512  # entries per block of a SortedEntries


class SortedEntries:
    """A sorted list of tuples in blocks of at most 2 * BLOCK: O(log n) to find a key,
    and an insert or removal moves at most one block, however large the partition."""

    __slots__ = ("blocks", "maxes", "count", "block")

    def __init__(self, block: int = BLOCK) -> None:
        self.block = block
        self.blocks: list[list[tuple]] = []
        self.maxes: list[tuple] = []
        self.count = 0

    def __len__(self) -> int:
        return self.count

    @classmethod
    def of(cls, entries: list[tuple], block: int = BLOCK) -> SortedEntries:
        made = cls(block)
        entries.sort()
        made.blocks = [entries[at : at + block] for at in range(0, len(entries), block)]
        made.maxes = [chunk[-1] for chunk in made.blocks]
        made.count = len(entries)
        return made

    def add(self, entry: tuple) -> None:
        self.count += 1
        if not self.blocks:
            self.blocks.append([entry])
            self.maxes.append(entry)
            return
        at = bisect.bisect_left(self.maxes, entry)
        if at == len(self.maxes):
            at -= 1
            self.blocks[at].append(entry)
            self.maxes[at] = entry
        else:
            bisect.insort(self.blocks[at], entry)
        block = self.blocks[at]
        half = self.block
        if len(block) > 2 * half:
            self.blocks[at : at + 1] = [block[:half], block[half:]]
            self.maxes[at : at + 1] = [block[half - 1], block[-1]]

    def discard(self, entry: tuple) -> bool:
        at = bisect.bisect_left(self.maxes, entry)
        if at == len(self.maxes):
            return False
        block = self.blocks[at]
        where = bisect.bisect_left(block, entry)
        if where == len(block) or block[where] != entry:
            return False
        del block[where]
        self.count -= 1
        if not block:
            del self.blocks[at], self.maxes[at]
        else:
            self.maxes[at] = block[-1]
        return True

    def first_position(self, holds) -> tuple[int, int]:
        """The first (block, offset) whose entry does not satisfy ``holds``, a predicate
        true on a prefix of the list; (len(blocks), 0) if it holds everywhere."""
        low, high = 0, len(self.blocks)
        while low < high:
            middle = (low + high) // 2
            if holds(self.maxes[middle]):
                low = middle + 1
            else:
                high = middle
        if low == len(self.blocks):
            return low, 0
        block = self.blocks[low]
        start, end = 0, len(block)
        while start < end:
            middle = (start + end) // 2
            if holds(block[middle]):
                start = middle + 1
            else:
                end = middle
        return low, start

    def forward(self, position: tuple[int, int]) -> Iterator[tuple]:
        at, offset = position
        while at < len(self.blocks):
            yield from self.blocks[at][offset:]
            at, offset = at + 1, 0

    def backward(self, position: tuple[int, int]) -> Iterator[tuple]:
        """The entries before ``position``, last first."""
        at, offset = position
        if at < len(self.blocks):
            yield from reversed(self.blocks[at][:offset])
        for block in reversed(self.blocks[:at]):
            yield from reversed(block)


class IndexShape:
    """What moto sorts one index's (or the table's) partitions by, and how to key an item."""

    def __init__(self, table: Table, index: Any | None) -> None:
        self.name = index.name if index is not None else None
        declared = {a["AttributeName"]: a["AttributeType"] for a in table.attr}
        if index is None:
            self.hash_attr = table.hash_key_attr
            hash_attrs = [table.hash_key_attr]
            range_attrs: list[str | None] = [table.range_key_attr]
            self.member_attr: str | None = None
        else:
            schema = {key["KeyType"]: key["AttributeName"] for key in index.schema}
            self.hash_attr = schema["HASH"]
            if "RANGE" in schema:
                index_range = schema["RANGE"]
            elif isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
                index_range = table.range_key_attr
            else:
                index_range = table.hash_key_attr
            hash_attrs = [self.hash_attr, table.hash_key_attr]
            range_attrs = [index_range, table.range_key_attr]
            self.member_attr = index_range
        self.hash_attrs, self.range_attrs = hash_attrs, range_attrs
        # moto sorts by index hash, index range, table hash, table range (table: hash,
        # range); within a partition, by all but the first.
        self.sort_attrs = table._generate_attr_to_sort_by(hash_attrs, range_attrs)[1:]
        self.sort_types = [declared.get(attr) for attr in self.sort_attrs]
        self.key_attrs = table.table_key_attrs

    def partition_and_entry(self, item: Item) -> tuple[DynamoType, tuple] | None | Literal[False]:
        """The item's partition and sort entry; None if it is not in this index; False if
        its keys cannot be ordered here (then moto answers this index's queries)."""
        attrs = item.attrs
        partition = attrs.get(self.hash_attr) if self.name is not None else item.hash_key
        if partition is None or (self.member_attr and self.member_attr not in attrs):
            return None
        casts = []
        for attr, declared in zip(self.sort_attrs, self.sort_types, strict=True):
            value = attrs.get(attr)
            if value is None or value.type != declared or declared not in ORDERED_TYPES:
                return False
            if declared == "B" and not isinstance(value.value, str):
                return False  # base64 text through the API; bytes only if stored otherwise
            casts.append(value.cast_value)
        # The stored key, last: unique per item, and how the item is found again.
        casts.extend(attrs[attr].value for attr in self.key_attrs)
        return partition, tuple(casts)


class TableIndex:
    """One table's sorted partitions, per index name (None: the table itself)."""

    def __init__(self, table: Table) -> None:
        self.signature = _signature(table)
        self.shapes: dict[str | None, IndexShape] = {None: IndexShape(table, None)}
        for index in table.all_indexes():
            self.shapes[index.name] = IndexShape(table, index)
        self.partitions: dict[str | None, dict[DynamoType, SortedEntries]] = {
            name: {} for name in self.shapes
        }
        self.unordered: dict[str | None, int] = dict.fromkeys(self.shapes, 0)
        self.largest_item = 0
        self.count = 0
        # Sorting each partition once costs less than inserting its entries one by one.
        unsorted: dict[str | None, dict[DynamoType, list[tuple]]] = {n: {} for n in self.shapes}
        for item in _stored_items(table):
            self.count += 1
            self.largest_item = max(self.largest_item, item.size())
            for name, shape in self.shapes.items():
                keyed = shape.partition_and_entry(item)
                if keyed is False:
                    self.unordered[name] += 1
                elif keyed is not None:
                    unsorted[name].setdefault(keyed[0], []).append(keyed[1])
        for name, partitions in unsorted.items():
            for partition, entries in partitions.items():
                self.partitions[name][partition] = SortedEntries.of(entries)

    def add(self, item: Item, size: int | None = None) -> None:
        self.count += 1
        self.largest_item = max(self.largest_item, item.size() if size is None else size)
        for name, shape in self.shapes.items():
            keyed = shape.partition_and_entry(item)
            if keyed is False:
                self.unordered[name] += 1
            elif keyed is not None:
                partition, entry = keyed
                self.partitions[name].setdefault(partition, SortedEntries()).add(entry)

    def remove(self, item: Item) -> None:
        self.count -= 1
        for name, shape in self.shapes.items():
            keyed = shape.partition_and_entry(item)
            if keyed is False:
                self.unordered[name] -= 1
            elif keyed is not None:
                partition, entry = keyed
                entries = self.partitions[name].get(partition)
                if entries is not None:
                    entries.discard(entry)
                    if not entries:
                        del self.partitions[name][partition]


def _signature(table: Table) -> tuple:
    return (
        id(table.items),
        table.hash_key_attr,
        table.range_key_attr,
        tuple((index.name, repr(index.schema)) for index in table.all_indexes()),
        tuple((a["AttributeName"], a["AttributeType"]) for a in table.attr),
    )


def _stored_items(table: Table) -> Iterator[Item]:
    for stored in table.items.values():
        if table.range_key_attr:
            yield from stored.values()
        else:
            yield cast(Item, stored)  # moto types its items as range-keyed


def _stored_count(table: Table) -> int:
    if table.range_key_attr:
        return sum(len(partition) for partition in table.items.values())
    return len(table.items)


class _Indexes:
    """TableIndex per table object, kept only while moto keeps the table."""

    def __init__(self) -> None:
        self.by_table: dict[int, tuple[weakref.ref, TableIndex]] = {}

    def existing(self, table: Table) -> TableIndex | None:
        found = self.by_table.get(id(table))
        return found[1] if found is not None and found[0]() is table else None

    def current(self, table: Table) -> TableIndex:
        """The table's index, built or rebuilt if it is missing or stale: another table
        schema, or another count of items than the table's."""
        index = self.existing(table)
        if index is not None and index.signature == _signature(table):
            if index.count == _stored_count(table):
                return index
            LOG.warning(
                "festival plugin: table %s was changed around its index: rebuilt", table.name
            )
        index = TableIndex(table)
        key = id(table)

        def forget(_: object) -> None:
            self.by_table.pop(key, None)

        self.by_table[key] = (weakref.ref(table, forget), index)
        return index


INDEXES = _Indexes()


def _outermost() -> bool:
    return getattr(_nesting, "depth", 0) == 0


class _Nested:
    def __enter__(self) -> None:
        _nesting.depth = getattr(_nesting, "depth", 0) + 1

    def __exit__(self, *exc: object) -> None:
        _nesting.depth -= 1


def _stored_at(table: Table, hash_value: DynamoType, range_value: DynamoType | None):
    partition = table.items.get(hash_value)
    if partition is None or not table.range_key_attr:
        return partition
    return partition.get(range_value)


def _changing(
    table: Table,
    hash_value: DynamoType,
    range_value: DynamoType | None,
    change,
    stores_new_item: bool = False,
):
    """Run ``change`` (a write of one key) and move that key's entries in the table's index.
    ``stores_new_item``: the change stores an Item it made, unchanged since measured."""
    if not _outermost():
        return change()
    # Indexed from its first write on: a table's first Query then finds its index ready.
    # (A Query checks that the index is still the table's: this runs once per item.)
    index = INDEXES.existing(table) or INDEXES.current(table)
    before = _stored_at(table, hash_value, range_value)
    if before is not None:
        index.remove(before)  # now, while its attributes are still those indexed
    try:
        with _Nested():
            return change()
    finally:
        after = _stored_at(table, hash_value, range_value)
        if after is not None:
            measured = getattr(after, "festival_size", None) if stores_new_item else None
            index.add(after, measured)


def _key_values(table: Table, attrs: dict) -> tuple[DynamoType, DynamoType | None] | None:
    try:
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, AttributeError):
        return None
    return hash_value, range_value


def _put_item_indexed(put_item):
    @functools.wraps(put_item)
    def indexed(table: Table, item_attrs: dict, *args, **kwargs) -> Item:
        with LOCK:
            key = _key_values(table, item_attrs) if isinstance(item_attrs, dict) else None
            if key is None:  # moto refuses it (missing key): nothing is stored
                with _Nested():
                    return put_item(table, item_attrs, *args, **kwargs)
            return _changing(
                table, *key, lambda: put_item(table, item_attrs, *args, **kwargs), True
            )

    return indexed


def _delete_item_indexed(delete_item):
    @functools.wraps(delete_item)
    def indexed(table: Table, hash_key: DynamoType, range_key: DynamoType | None):
        with LOCK:
            if not isinstance(hash_key, DynamoType):
                with _Nested():
                    return delete_item(table, hash_key, range_key)
            return _changing(
                table, hash_key, range_key, lambda: delete_item(table, hash_key, range_key)
            )

    return indexed


def _update_item_indexed(update_item):
    @functools.wraps(update_item)
    def indexed(backend: DynamoDBBackend, table_name: str, key: dict, *args, **kwargs):
        with LOCK:
            try:
                table = backend.get_table(table_name)
            except Exception:  # moto raises its own error for it below
                table = None
            keyed = _key_values(table, key) if table is not None and isinstance(key, dict) else None
            if table is None or keyed is None:
                with _Nested():
                    return update_item(backend, table_name, key, *args, **kwargs)
            return _changing(
                table, *keyed, lambda: update_item(backend, table_name, key, *args, **kwargs)
            )

    return indexed


def _delete_table_forgetting(delete_table):
    @functools.wraps(delete_table)
    def forgetting(backend: DynamoDBBackend, name: str) -> Table:
        with LOCK:
            table = delete_table(backend, name)
            INDEXES.by_table.pop(id(table), None)  # now, not when the table is collected
            return table

    return forgetting


def _transact_forgetting_replaced(transact_write_items):
    """A failed transaction puts back copies of its tables, as new objects (moto keeps every
    model object it made, so the old ones are never collected): forget their indexes."""

    @functools.wraps(transact_write_items)
    def forgetting(backend: DynamoDBBackend, *args, **kwargs):
        with LOCK:
            before = dict(backend.tables)
            try:
                return transact_write_items(backend, *args, **kwargs)
            finally:
                for name, table in before.items():
                    if backend.tables.get(name) is not table:
                        INDEXES.by_table.pop(id(table), None)

    return forgetting


def _locked(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with LOCK:
            return method(*args, **kwargs)

    return locked


class _Top:
    """Sorts after every key: (value, TOP) is past each entry whose first key is value."""

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True


TOP = _Top()
# moto's key condition parser names comparisons by their operator.
OPERATORS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}


def _range_bounds(comparison: str | None, values: list, sort_type: str | None):
    """(low, low_inclusive, high, high_inclusive) of the first sort key; None: no bound.
    False if this comparison is left to moto."""
    if comparison is None:
        return None, True, None, True
    if any(value.type != sort_type for value in values):
        return False
    casts = [value.cast_value for value in values]
    comparison = OPERATORS.get(comparison, comparison)
    if comparison == "EQ":
        return casts[0], True, casts[0], True
    if comparison == "LT":
        return None, True, casts[0], False
    if comparison == "LE":
        return None, True, casts[0], True
    if comparison == "GT":
        return casts[0], False, None, True
    if comparison == "GE":
        return casts[0], True, None, True
    if comparison == "BETWEEN":
        return casts[0], True, casts[1], True
    if comparison == "BEGINS_WITH" and sort_type == "S":
        return casts[0], True, None, True  # then until the first key without the prefix
    return False


def _indexed_query(original_query):
    @functools.wraps(original_query)
    def query(
        table: Table,
        hash_key: DynamoType,
        range_comparison: str | None,
        range_objs: list[DynamoType],
        limit: int,
        exclusive_start_key: dict[str, Any],
        scan_index_forward: bool,
        projection_expressions: list[list[str]] | None,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        **filter_kwargs: Any,
    ):
        def moto_query():
            return original_query(
                table,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                **filter_kwargs,
            )

        def moto_answers():
            ANSWERED["moto"] += 1
            return moto_query()

        with LOCK:
            if getattr(_nesting, "moto_only", False):
                return moto_query()
            if filter_kwargs:
                return moto_answers()
            if limit is not None and (not isinstance(limit, int) or limit < 1):
                return moto_answers()
            indexes = {i.name: i for i in table.all_indexes()}
            if index_name:
                index = indexes.get(index_name)
                if index is None or (consistent_read and index in table.global_indexes):
                    return moto_answers()  # moto's error
                kinds = [key["KeyType"] for key in index.schema]
                if "HASH" not in kinds or (range_comparison and "RANGE" not in kinds):
                    return moto_answers()  # moto's error
            table_index = INDEXES.current(table)
            shape = table_index.shapes.get(index_name or None)
            if shape is None or table_index.unordered[shape.name]:
                return moto_answers()
            # A table without range key: its partitions hold one item each, sorted alike.
            sort_type = shape.sort_types[0] if shape.sort_types else None
            bounds = _range_bounds(range_comparison, range_objs, sort_type)
            if bounds is False:
                return moto_answers()
            entries = table_index.partitions[shape.name].get(hash_key, SortedEntries())
            ANSWERED["index"] += 1
            return _answer(
                table,
                table_index,
                shape,
                entries,
                bounds,
                (range_comparison, range_objs),
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                filter_expression,
            )

    query.__festival_indexed__ = True  # type: ignore[attr-defined]
    return query


def _item_of(table: Table, entry: tuple) -> Item:
    key = dict(zip(table.table_key_attrs, entry[-len(table.table_key_attrs) :], strict=True))
    hash_value = DynamoType({table.hash_key_type: key[table.hash_key_attr]})
    if not table.range_key_attr:
        return cast(Item, table.items[hash_value])  # moto types its items as range-keyed
    range_value = DynamoType({str(table.range_key_type): key[table.range_key_attr]})
    return cast(Item, table.items[hash_value][range_value])


def _answer(
    table: Table,
    table_index: TableIndex,
    shape: IndexShape,
    entries: SortedEntries,
    bounds: tuple,
    condition: tuple,
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    forward: bool,
    projection_expressions: list[list[str]] | None,
    filter_expression: Any,
):
    """moto's Query loop over the partition's items from the first one it could return."""
    low, low_inclusive, high, high_inclusive = bounds
    range_comparison, range_objs = condition
    if forward:
        if low is None:
            start = (0, 0)
        elif low_inclusive:
            start = entries.first_position(lambda entry: entry < (low,))
        else:
            start = entries.first_position(lambda entry: entry < (low, TOP))
        items = entries.forward(start)
    else:
        if range_comparison == "BEGINS_WITH":
            start = entries.first_position(lambda entry: entry[0] < low or entry[0].startswith(low))
        elif high is None:
            start = (len(entries.blocks), 0)
        elif high_inclusive:
            start = entries.first_position(lambda entry: entry < (high, TOP))
        else:
            start = entries.first_position(lambda entry: entry < (high,))
        items = entries.backward(start)
    if exclusive_start_key is not None:
        # moto skips the items its own test says come before (or at) the start key.
        def before_start(entry: tuple) -> bool:
            return table._item_comes_before_dct(
                _item_of(table, entry),
                exclusive_start_key,
                shape.hash_attrs,
                shape.range_attrs,
                forward,
            )

        if forward:
            cut = entries.first_position(before_start)
            if cut > start:
                items = entries.forward(cut)
        else:
            cut = entries.first_position(lambda entry: not before_start(entry))
            if cut < start:
                items = entries.backward(cut)

    results: list[Item] = []
    result_size = 0
    last_evaluated_key = None
    past_range = False
    for entry in items:
        item = _item_of(table, entry)
        if past_range:
            # No item past the key range matches; moto still ends the page on one.
            if len(results) == limit or result_size + item.size() > RESULT_SIZE_LIMIT:
                last_evaluated_key = table._get_last_evaluated_key(results[-1], shape.name)
                break
            if result_size + table_index.largest_item <= RESULT_SIZE_LIMIT:
                break  # no later item can be large enough to end the page
            continue
        size = item.size()
        if len(results) == limit or result_size + size > RESULT_SIZE_LIMIT:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], shape.name)
            break
        key = entry[0]
        if forward:
            outside = high is not None and (key > high or (key == high and not high_inclusive))
        else:
            outside = low is not None and (key < low or (key == low and not low_inclusive))
        if not outside and range_comparison == "BEGINS_WITH":
            outside = not key.startswith(low)
        if outside or (range_comparison and not _matches(item, shape, condition)):
            past_range = True
            if not results:
                break  # past the range with nothing returned: no page to end
            if len(results) == limit:
                last_evaluated_key = table._get_last_evaluated_key(results[-1], shape.name)
                break
            if result_size + table_index.largest_item <= RESULT_SIZE_LIMIT:
                break
            continue
        results.append(item)
        result_size += size

    # moto copies every item here to guard what it stores; nothing below changes an item
    # (projections build new ones) and the answer is written out under LOCK, so the copy,
    # three quarters of a large Query's CPU, is left out.
    if shape.name is not None:
        index = table.get_index(shape.name)
        results = [index.project(r) for r in results]
    scanned_count = len(results)
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expressions:
        names = _top_level_names(projection_expressions)
        results = [
            r.project(projection_expressions)
            if names is None or _holds_binary(r)
            else _project_top_level(r, names)
            for r in results
        ]
    return results, scanned_count, last_evaluated_key


def _top_level_names(projection_expressions: list[list[str]]) -> list[str] | None:
    """The attribute names, if every path of the projection is one plain top-level name."""
    if all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
        return [path[0] for path in projection_expressions]
    return None


def _holds_binary(item: Item) -> bool:
    """Whether the item holds a binary or a binary set, which moto's ``Item.project``
    converts its own way (or fails on): such items are left to it, to answer as moto does."""
    return any(attribute.type in ("B", "BS") for attribute in item.attrs.values())


def _project_top_level(item: Item, names: list[str]) -> Item:
    """moto's ``Item.project`` for top-level names: the same item, but each projected
    attribute is converted alone. moto converts the whole item to Python values once per
    name, then back: most of the emulator's CPU when a load reads its rows back."""
    attrs: dict[str, Any] = {}
    for name in names:
        attribute = item.attrs.get(name)
        if attribute is None:
            continue
        if attribute.type == "S":  # a string comes back as it went
            attrs[name] = {"S": attribute.value}
        else:  # numbers are normalized, as moto does
            attrs[name] = _SERIALIZER.serialize(
                _DESERIALIZER.deserialize(attribute.to_regular_json())
            )
    return Item(hash_key=item.hash_key, range_key=item.range_key, attrs=attrs)


def _matches(item: Item, shape: IndexShape, condition: tuple) -> bool:
    range_comparison, range_objs = condition
    return item.attrs[shape.sort_attrs[0]].compare(range_comparison, range_objs)


def moto_only():
    """A context in which Query is answered by moto's own code (tests compare the two)."""

    class _MotoOnly:
        def __enter__(self) -> None:
            _nesting.moto_only = True

        def __exit__(self, *exc: object) -> None:
            _nesting.moto_only = False

    return _MotoOnly()


# The moto-ext 5.1.54 signatures each patch relies on (parameter names, in order).
WRITTEN_FOR_SIGNATURES = {
    (Table, "query"): [
        "self",
        "hash_key",
        "range_comparison",
        "range_objs",
        "limit",
        "exclusive_start_key",
        "scan_index_forward",
        "projection_expressions",
        "index_name",
        "consistent_read",
        "filter_expression",
        "filter_kwargs",
    ],
    (Table, "put_item"): [
        "self",
        "item_attrs",
        "expected",
        "condition_expression",
        "expression_attribute_names",
        "expression_attribute_values",
        "overwrite",
        "return_values_on_condition_check_failure",
    ],
    (Table, "delete_item"): ["self", "hash_key", "range_key"],
    (Table, "_item_comes_before_dct"): [
        "self",
        "item",
        "dct",
        "hash_key_attrs",
        "range_key_attrs",
        "scan_index_forward",
    ],
    (Table, "_generate_attr_to_sort_by"): ["self", "hash_key_attrs", "range_key_attrs"],
    (Table, "_get_last_evaluated_key"): ["self", "last_result", "index_name"],
    (DynamoDBBackend, "delete_table"): ["self", "name"],
    (DynamoDBBackend, "update_item"): [
        "self",
        "table_name",
        "key",
        "update_expression",
        "expression_attribute_names",
        "expression_attribute_values",
        "attribute_updates",
        "expected",
        "condition_expression",
        "return_values_on_condition_check_failure",
    ],
}


def signatures_match() -> list[str]:
    """The methods whose signature differs from the one written for (empty: all match)."""
    return [
        f"{owner.__name__}.{name}"
        for (owner, name), parameters in WRITTEN_FOR_SIGNATURES.items()
        if list(inspect.signature(getattr(owner, name)).parameters) != parameters
    ]


def apply() -> bool:
    """Index moto's tables and lock their operations, once; False (moto left alone, with a
    warning) if any method patched or relied on has another signature than written for."""
    if getattr(Table.query, "__festival_indexed__", False):
        return True
    differing = signatures_match()
    if differing:
        LOG.warning(
            "festival plugin: moto's DynamoDB changed (%s): queries still walk the table",
            ", ".join(differing),
        )
        return False
    # Replacing methods is the point here: the type: ignores say so to mypy.
    Table.query = _indexed_query(Table.query)  # type: ignore[method-assign]
    Table.put_item = _put_item_indexed(Table.put_item)  # type: ignore[method-assign]
    Table.delete_item = _delete_item_indexed(Table.delete_item)  # type: ignore[method-assign]
    Table.scan = _locked(Table.scan)  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item_indexed(  # type: ignore[method-assign]
        DynamoDBBackend.update_item
    )
    DynamoDBBackend.delete_table = _delete_table_forgetting(  # type: ignore[method-assign]
        DynamoDBBackend.delete_table
    )
    DynamoDBBackend.transact_write_items = _transact_forgetting_replaced(  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items
    )
    LOG.info("festival plugin: moto's DynamoDB tables indexed for Query, one request at a time")
    return True
