"""Time zones and local times as people type them; the store keeps UTC."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def zone(name: str) -> tzinfo:
    """An IANA time zone ("Europe/Berlin"), or a fixed UTC offset ("+02:00", what Teams' localTimestamp
    gives when no zone name comes); UTC for anything else."""
    offset = _OFFSET.match(name)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-delta if sign == "-" else delta) if delta < timedelta(hours=24) else timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def zone_label(name: str) -> str:
    """How a reply names the zone a typed time was read in."""
    found = zone(name)
    if found is timezone.utc:
        return "UTC"
    return f"UTC{name}" if _OFFSET.match(name) else name


class SkippedTime(ValueError):
    """The clocks of the zone jump past this local time (daylight saving time starts)."""


def local_time(day: str, time_of_day: str, tz: tzinfo) -> datetime:
    """`2026-12-01` and `17:00` in this zone, as an aware datetime; ValueError if they are no date or
    time, SkippedTime if the zone's clocks skip them. A time that happens twice (clocks going back)
    is its first occurrence: fold=0, the datetime default."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) or not re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", time_of_day):
        raise ValueError(f"not a date and time: {day} {time_of_day}")
    moment = datetime.fromisoformat(f"{day}T{time_of_day}").replace(tzinfo=tz)
    if moment.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise SkippedTime(f"{day} {time_of_day} does not exist in {tz}")
    return moment


def stored(moment: datetime) -> str:
    """The form the store keeps times in: UTC, ISO 8601 with milliseconds."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
