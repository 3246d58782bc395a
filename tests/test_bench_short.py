"""`make bench` in its short mode, both paths (Submit and invoke), on a named and an anonymous poll: fails on
a lost vote, a wrong final card or an invoke not answered with the voter's card, never on timing."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_short_benchmark_loses_no_vote_and_ends_on_the_right_card(tmp_path):
    report_path = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--votes", "200", "--rounds", "1", "--json", str(report_path)],
        capture_output=True, text=True, timeout=300,
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(report_path.read_text())
    assert report["lost_votes"] == 0 and report["problems"] == []
    assert [(r["path"], r["poll"]) for r in report["per_round"]] == [
        ("submit", "named"), ("submit", "anonymous"), ("invoke", "named"), ("invoke", "anonymous")]
    for round_ in report["per_round"]:
        assert round_["acknowledged"] == round_["in_database"] == round_["on_card"] == 200
        assert round_["final_card_after_s"] is not None
