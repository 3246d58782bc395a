"""Typed, versioned payloads carried in every card button's `data`.

A button's data is `{"v": 1, "verb": "...", <ids>}`; Teams merges the card's
inputs into the same object. `parse` turns that into the verb's dataclass or
raises PayloadError, so handlers only ever see well-formed values.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, get_type_hints

VERSION = 1
MAX_INPUT_CHARS = 5000
MAX_ID = 2**63 - 1  # SQLite's largest integer: ids are looked up there


class PayloadError(ValueError):
    pass


@dataclass(frozen=True)
class PollVote:
    poll: int
    option: int


@dataclass(frozen=True)
class PollRef:
    poll: int


@dataclass(frozen=True)
class PollEdit:
    poll: int
    # The "Edit poll" card's inputs: the question, and the options one per line.
    question: str = ""
    options: str = ""


@dataclass(frozen=True)
class PollAddOption:
    poll: int
    new_option: str = ""  # the "Add an option" card's input


@dataclass(frozen=True)
class PollFormSubmit:
    card: int
    # Card inputs: absent when the user left them empty.
    question: str = ""
    options: str = ""
    choice_mode: str = "single"  # or "multiple"
    max_choices: str = ""  # with multiple choice, at most this many (empty: any number)
    anonymous: str = "false"  # the toggles send "true" or "false"
    hidden: str = "false"
    add_options: str = "false"
    closes_date: str = ""  # YYYY-MM-DD, in the creator's time zone
    closes_time: str = ""  # HH:MM


@dataclass(frozen=True)
class ApprovalRef:
    approval: int


@dataclass(frozen=True)
class ApprovalDecision:
    approval: int
    comment: str = ""  # from the Approve card
    reason: str = ""  # from the Reject card


@dataclass(frozen=True)
class ApprovalReassign:
    approval: int
    reassign_to: str = ""


@dataclass(frozen=True)
class ApprovalFormSubmit:
    card: int
    title: str = ""
    details: str = ""
    approvers: str = ""  # comma-separated user ids (a multi-select ChoiceSet)
    policy: str = "all"
    quorum: str = "1"
    due_date: str = ""  # YYYY-MM-DD
    due_time: str = ""  # HH:MM


def make(verb: str, **ids: int) -> dict[str, Any]:
    return {"v": VERSION, "verb": verb, **ids}


def parse(value: Any, payload_type: type) -> Any:
    if not isinstance(value, dict):
        raise PayloadError("payload is not an object")
    if value.get("v") != VERSION:
        raise PayloadError(f"unsupported payload version {value.get('v')!r}")
    hints = _hints(payload_type)
    fields = {}
    for field in dataclasses.fields(payload_type):
        if field.name not in value:
            if field.default is dataclasses.MISSING:
                raise PayloadError(f"missing {field.name}")
            continue
        fields[field.name] = _check(field.name, value[field.name], hints[field.name])
    return payload_type(**fields)


@lru_cache(maxsize=None)
def _hints(payload_type: type) -> dict[str, type]:
    return get_type_hints(payload_type)


def _check(name: str, raw: Any, expected: type) -> Any:
    if expected is int:
        # bool is an int in Python; a forged `true` must not pass as id 1.
        if type(raw) is not int or not 0 <= raw <= MAX_ID:
            raise PayloadError(f"{name} must be an integer from 0 to {MAX_ID}")
        return raw
    if not isinstance(raw, str):
        raise PayloadError(f"{name} must be text")
    if len(raw) > MAX_INPUT_CHARS:
        raise PayloadError(f"{name} is too long")
    return raw


@dataclass(frozen=True)
class Subject:
    """What a button is about: a poll, an approval request, or a creation form (by its card id)."""
    kind: str  # "poll", "approval" or "form"
    id: int


def subject_of(payload: Any) -> Subject:
    if isinstance(payload, (PollVote, PollRef, PollEdit, PollAddOption)):
        return Subject("poll", payload.poll)
    if isinstance(payload, (ApprovalRef, ApprovalDecision, ApprovalReassign)):
        return Subject("approval", payload.approval)
    return Subject("form", payload.card)


def card_action(value: Any) -> dict[str, Any]:
    """The payload of an `adaptiveCard/action` invoke: its Action.Execute's data (with the card's
    inputs merged in), whose verb must be the action's own."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict) or action.get("type") != "Action.Execute":
        raise PayloadError("not an Action.Execute")
    verb, data = action.get("verb"), action.get("data", {})
    if not isinstance(verb, str) or not isinstance(data, dict):
        raise PayloadError("an Action.Execute needs a verb and an object of data")
    if data.get("verb", verb) != verb:
        raise PayloadError("the data's verb is not the action's")
    return {**data, "verb": verb}
