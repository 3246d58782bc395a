from __future__ import annotations

import sqlite3

from ..signing import Pseudonyms
from .db import fetch_one, placeholders, utc_now


class ActivityLog:
    """Remembers handled activities and recent button presses, so neither a
    redelivery nor a double click changes anything twice."""

    def __init__(self, conn: sqlite3.Connection, pseudonyms: Pseudonyms):
        self._conn = conn
        self._pseudonyms = pseudonyms

    def first_delivery_and_press(self, key: str, user_id: str, press: str, now: float, window: float,
                                 conversation_id: str) -> bool:
        """False for a redelivered activity (`key` handled before) and for a double click: the user
        pressed the same button (`press`, if any) less than `window` seconds ago. Both records are
        written before either answer is read, so on PostgreSQL they share a round trip (a
        redelivery's press finds the record its first delivery wrote: writing it changes nothing).
        Read, then write: the caller holds the user's lock (`Turn._once`). Presses are kept under a
        keyed hash: a vote's button names its option, which must not be kept with the voter."""
        delivery = self._conn.execute(
            """INSERT INTO processed_activities (activity_key, received_at, conversation_id) VALUES (?, ?, ?)
               ON CONFLICT DO NOTHING""",
            (key, utc_now(), conversation_id),
        ) if key else None
        press_key = self._pseudonyms.press(user_id, press) if press else ""
        pressed = self._conn.execute(
            "INSERT INTO recent_presses (press_key, pressed_at, conversation_id) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (press_key, now, conversation_id),
        ) if press else None
        if delivery is not None and delivery.rowcount != 1:
            return False
        if pressed is None or pressed.rowcount == 1:  # no button, or its first press
            return True
        (last,) = fetch_one(self._conn, "SELECT pressed_at FROM recent_presses WHERE press_key = ?", (press_key,))
        self._conn.execute("UPDATE recent_presses SET pressed_at = ?, conversation_id = ? WHERE press_key = ?",
                           (now, conversation_id, press_key))
        return now - last >= window

    def prune(self, activities_before: str, presses_before: float) -> None:
        self._conn.execute("DELETE FROM processed_activities WHERE received_at < ?", (activities_before,))
        self._conn.execute("DELETE FROM recent_presses WHERE pressed_at < ?", (presses_before,))

    def forget_conversations(self, conversation_ids: list[str]) -> None:
        """Erase which of these conversations' activities and presses were handled."""
        marks = placeholders(conversation_ids)
        self._conn.execute(f"DELETE FROM processed_activities WHERE conversation_id IN ({marks})", conversation_ids)
        self._conn.execute(f"DELETE FROM recent_presses WHERE conversation_id IN ({marks})", conversation_ids)
