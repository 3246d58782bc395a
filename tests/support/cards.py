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
    """Option label -> the count text shown beside it ("2 votes · 67%")."""
    counts = {}
    for node in _walk(card.get("body", [])):
        if node.get("type") == "ColumnSet" and len(node["columns"]) == 2:
            label_col, count_col = node["columns"]
            rich = [i for i in label_col["items"] if i.get("type") == "RichTextBlock"]
            plain = [i for i in count_col["items"] if i.get("type") == "TextBlock"]
            if rich and plain:
                label = rich[0]["inlines"][-1]["text"]
                counts[label] = plain[0]["text"]
    return counts


def highlighted(card: dict) -> list[str]:
    """Option labels shown as winners (green)."""
    return [run["text"] for node in _walk(card.get("body", [])) if node.get("type") == "TextRun"
            for run in [node] if run.get("color") == "Good"]
