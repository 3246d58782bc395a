"""Read a rendered Adaptive Card the way a user would: its texts and buttons."""
from __future__ import annotations

from typing import Any, Iterator


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
    """Title -> data for every Action.Submit, in the body and the action bar."""
    return {a["title"]: a.get("data") for a in _walk(card) if a.get("type") == "Action.Submit"}


def vote_buttons(card: dict) -> dict[str, dict]:
    return {t: d for t, d in buttons(card).items() if d and d.get("verb") == "poll.vote"}


def option_counts(card: dict) -> dict[str, str]:
    """Option label (its button, or its text once closed) -> the count shown beside it."""
    counts = {}
    for node in _walk(card.get("body", [])):
        if node.get("type") != "ColumnSet" or len(node["columns"]) != 2:
            continue
        label_items, count_items = (column["items"] for column in node["columns"])
        counts_shown = [i["text"] for i in count_items if i.get("type") == "TextBlock"]
        for item in label_items:
            if item.get("type") == "ActionSet":
                counts[item["actions"][0]["title"]] = counts_shown[0]
            elif item.get("type") == "RichTextBlock":
                counts[item["inlines"][-1]["text"]] = counts_shown[0]
    return counts


def highlighted(card: dict) -> list[str]:
    """Option labels shown as winners (behind a trophy)."""
    found = []
    for node in _walk(card.get("body", [])):
        runs = node.get("inlines", []) if node.get("type") == "RichTextBlock" else []
        if len(runs) == 2 and runs[0]["text"] == "🏆 ":
            found.append(runs[1]["text"])
    return found
