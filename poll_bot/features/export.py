"""A poll's results as a spreadsheet: the creator's "Export results" sends them, in their 1:1 chat,
a signed link valid 24 hours (`poll_bot/signing.py`); GET /export/<token> answers the CSV."""
from __future__ import annotations

import csv
import io

from ..i18n import _, name_or_someone
from ..store import UnitOfWork

# A cell starting with one of these would run as a formula in Excel or LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def results_csv(uow: UnitOfWork, poll_id: int) -> str | None:
    """One row per vote (option, voter, time in UTC), or for an anonymous poll one row per option
    with its count; UTF-8 with a BOM so Excel reads names right. None if the poll is gone. The
    header row is in the current language."""
    poll = uow.polls.get(poll_id)
    if poll is None:
        return None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if poll.anonymous:
        counts = uow.polls.results(poll_id).counts
        writer.writerow([_("Option"), _("Votes")])
        writer.writerows([_cell(option.label), counts.get(option.position, 0)] for option in poll.options)
    else:
        writer.writerow([_("Option"), _("Voter"), _("Voted at (UTC)")])
        for position, voter, voted_at in uow.polls.votes(poll_id):
            writer.writerow([_cell(poll.option_label(position)), _cell(name_or_someone(voter)), voted_at])
    return "\ufeff" + out.getvalue()


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text
