"""Request bodies into botbuilder's `Activity`: every check of what arrives, in one place.

`parse_body` reads the JSON (bounded depth, finite numbers, integers SQLite can
store, text that encodes as UTF-8); `activity_from_json` builds the `Activity`
and refuses any field of the wrong type. Both raise ActivityError, answered 400.

The builder walks the same `_attribute_map`s that msrest reads and builds the
same model objects (unknown keys go to `additional_properties`, as msrest does)
without msrest's generic deserializer: msrest took about 140 µs per activity, a
fifth of a vote turn's CPU. tests/test_activity.py checks it against msrest.
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from botbuilder import schema
from botbuilder.schema import Activity
from msrest.serialization import Deserializer

MAX_DEPTH = 64  # Teams nests a handful of levels; deeper input could exhaust the stack further on
SQLITE_MIN, SQLITE_MAX = -2**63, 2**63 - 1
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_JSON_TYPES = {"str": str, "bool": bool, "int": int, "object": object}


class ActivityError(ValueError):
    """A request body the bot cannot use; its message is the short reason answered with 400:
    the field's path, when there is one, and what is wrong with it."""

    def __init__(self, problem: str, path: tuple[str, ...] = ()):
        super().__init__(" ".join([".".join(path), problem]) if path else problem)
        self.problem, self.path = problem, path

    def within(self, key: str) -> "ActivityError":
        return ActivityError(self.problem, (key, *self.path))


def parse_body(raw: bytes) -> Any:
    try:
        body = json.loads(raw.decode("utf-8"), parse_int=_integer, parse_float=_finite, parse_constant=_not_finite)
    except ActivityError:
        raise
    except RecursionError:
        raise ActivityError("nested too deeply") from None
    except ValueError:
        raise ActivityError("body is not JSON") from None
    # Decoded UTF-8 holds no surrogates: only a \uD800-style escape can make one.
    _check_nesting(body, check_text=_SURROGATE_ESCAPE.search(raw) is not None)
    return body


def _integer(text: str) -> int:
    if len(text) > 20 or not SQLITE_MIN <= int(text) <= SQLITE_MAX:
        raise ActivityError("integer out of range")
    return int(text)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ActivityError("number out of range")
    return number


def _not_finite(constant: str) -> float:
    raise ActivityError(f"number {constant} is not finite")


def _check_nesting(body: Any, check_text: bool) -> None:
    """Depth (iteratively: a deep body must not recurse here either), and text that encodes as UTF-8."""
    pending = [(body, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ActivityError("nested too deeply")
        values = node.values() if isinstance(node, dict) else node if isinstance(node, list) else (node,)
        if check_text:
            _check_unicode([*node, *values] if isinstance(node, dict) else values)
        pending += [(value, depth + 1) for value in values if isinstance(value, (dict, list))]


def _check_unicode(values: Any) -> None:
    for value in values:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ActivityError("text is not valid Unicode") from None


def activity_from_json(body: dict[str, Any]) -> Activity:
    activity = _build(Activity, body)
    _check_untyped_parts(activity)
    return activity


def _check_untyped_parts(activity: Activity) -> None:
    """What the bot reads where the schema says only 'object': channelData's tenant, team,
    channel and eventType, and the mention and clientInfo entities' fields."""
    data = activity.channel_data
    if data is not None:
        if not isinstance(data, dict):
            raise ActivityError("channelData is not an object")
        for key in ("tenant", "team", "channel"):
            _check_account(data.get(key), f"channelData.{key}")
        _check_text(data.get("eventType"), "channelData.eventType")
    for index, entity in enumerate(activity.entities or []):
        where, props = f"entities.{index}", entity.additional_properties
        if entity.type == "mention":
            _check_account(props.get("mentioned"), f"{where}.mentioned")
            _check_text(props.get("text"), f"{where}.text")
        elif entity.type == "clientInfo":
            _check_text(props.get("timezone"), f"{where}.timezone")


def _check_account(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise ActivityError(f"{where} is not an object")
    for key in ("id", "name"):
        _check_text(value.get(key), f"{where}.{key}")


def _check_text(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, str):
        raise ActivityError(f"{where} is not text")


@lru_cache(maxsize=None)
def _fields(model: type) -> dict[str, tuple[str, str]]:
    """JSON key -> (attribute, msrest type) for a model class."""
    return {spec["key"]: (attr, spec["type"]) for attr, spec in model._attribute_map.items()}


def _build(model: type, data: Any):
    if not isinstance(data, dict):
        raise ActivityError("is not an object")
    fields = _fields(model)
    values, extra = {}, {}
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            extra[key] = value
            continue
        try:
            values[field[0]] = _convert(field[1], value)
        except ActivityError as error:
            raise error.within(key) from None
    built = model(**values)
    built.additional_properties = extra
    return built


def _convert(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "iso-8601":
        return _timestamp(value)
    if kind.startswith("["):
        if not isinstance(value, list) or None in value:
            raise ActivityError("is not a list without nulls")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_convert(kind[1:-1], item))
            except ActivityError as error:
                raise error.within(str(index)) from None
        return items
    if kind.startswith("{"):
        if not isinstance(value, dict):
            raise ActivityError("is not an object")
        return {key: _convert(kind[1:-1], item) for key, item in value.items()}
    plain = _JSON_TYPES.get(kind)
    if plain is None:
        return _build(getattr(schema, kind), value)
    if not isinstance(value, plain) or (plain is int and isinstance(value, bool)):
        raise ActivityError("is not text" if plain is str else f"is not a {kind}")
    return value


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ActivityError("is not a timestamp")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:  # the forms fromisoformat does not read, as msrest reads them
        return Deserializer.deserialize_iso(value)
    except (ValueError, OverflowError):  # msrest's DeserializationError is a ValueError
        raise ActivityError("is not a timestamp") from None
