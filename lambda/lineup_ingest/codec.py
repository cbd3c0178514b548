"""Items as Python values <-> DynamoDB's attribute values (pure; shared with `festival`)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _attribute(value: Any) -> dict:
    # Performance items hold only strings and integers: serialize those directly, which is
    # several times faster than TypeSerializer on a file of a million rows.
    if type(value) is str:
        return {"S": value}
    if type(value) is int:
        return {"N": str(value)}
    return _serializer.serialize(value)


def to_attributes(item: dict[str, Any]) -> dict[str, dict]:
    return {name: _attribute(value) for name, value in item.items()}


def from_attributes(attributes: dict[str, dict]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in attributes.items()}
