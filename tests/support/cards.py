"""Read a rendered Adaptive Card the way a user would: its texts and buttons."""
from __future__ import annotations

from typing import Any, Iterator

PRESSABLE = ("Action.Execute", "Action.Submit")


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def texts(card: dict) -> list[str]:
    """Every visible text: TextBlocks and the concatenated runs of each RichTextBlock."""
    found = []
    for node in _walk(card.get("body", [])):
        if node.get("type") == "TextBlock":
            found.append(node["text"])
        elif node.get("type") == "RichTextBlock":
            found.append("".join(run["text"] for run in node["inlines"]))
    return found


def buttons(card: dict) -> dict[str, dict]:
    """Title -> data for every button that sends something: Action.Execute (with the Action.Submit
    fallback carrying the same data), in the body, option rows and the action bar."""
    shown = {key: value for key, value in card.items() if key != "refresh"}  # refresh is no button
    return {a["title"]: a.get("data") for a in _walk(shown) if a.get("type") in PRESSABLE}


def voter_count(card: dict) -> int:
    """The number in "N people voted" / "1 person voted" ("No votes yet." is 0)."""
    for text in texts(card):
        words = text.replace("·", " ").split()
        if words[-1:] == ["voted"]:
            return int(words[-3])
    return 0


def vote_buttons(card: dict) -> dict[str, dict]:
    return {t: d for t, d in buttons(card).items() if d and d.get("verb") == "poll.vote"}


def fallbacks_match(card: dict) -> bool:
    """Every Action.Execute has an Action.Submit fallback with the same title and data."""
    shown = {key: value for key, value in card.items() if key != "refresh"}
    executes = [a for a in _walk(shown) if a.get("type") == "Action.Execute"]
    return all(a.get("fallback", {}).get("type") == "Action.Submit" and a["fallback"]["data"] == a["data"]
               and a["fallback"]["title"] == a["title"] and a["verb"] == a["data"]["verb"] for a in executes)


def _option_rows(card: dict) -> Iterator[tuple[list[dict], str | None]]:
    """(label runs, count text) for each option row of a poll card; the count is None where the
    card hides the tallies (a hidden poll's, while it is open)."""
    for node in _walk(card.get("body", [])):
        if node.get("type") != "Container" or not node.get("items"):
            continue
        first = node["items"][0]
        if first.get("type") != "ColumnSet" or len(first["columns"]) not in (1, 2):
            continue
        label_items, *count_items = (column["items"] for column in first["columns"])
        yield label_items[0]["inlines"], count_items[0][0]["text"] if count_items else None


def option_counts(card: dict) -> dict[str, str]:
    """Option label -> the count shown beside it (nothing for a row without one)."""
    return {runs[1]["text"]: count for runs, count in _option_rows(card) if count is not None}


def options(card: dict) -> list[str]:
    """Every option's label, in order, with or without counts and buttons."""
    return [runs[1]["text"] for runs, _ in _option_rows(card)]


def my_votes(card: dict) -> list[str]:
    """The options marked "✓ Your vote" (only in a person's own view)."""
    return [runs[1]["text"] for runs, _ in _option_rows(card) if any("Your vote" in r["text"] for r in runs)]


def highlighted(card: dict) -> list[str]:
    """Option labels shown as winners (behind a trophy)."""
    return [runs[1]["text"] for runs, _ in _option_rows(card) if runs[0]["text"].startswith("🏆")]


def notice(card: dict) -> str | None:
    """The reason at the top of a person's view when their press changed nothing."""
    return next((n["text"] for n in card.get("body", []) if n.get("id") == "notice"), None)
