"""`make bench` in its short mode, both paths (Submit and invoke) on a named and an anonymous poll on SQLite,
and Submit on PostgreSQL: fails on a lost vote, a final card whose voters or option counts differ from the
database, or an invoke not answered with the voter's card; never on timing."""
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
    assert [(r["path"], r["database"], r["poll"]) for r in report["per_round"]] == [
        ("submit", "sqlite", "named"), ("submit", "sqlite", "anonymous"), ("invoke", "sqlite", "named"),
        ("invoke", "sqlite", "anonymous"), ("submit", "postgresql", "named")]
    for round_ in report["per_round"]:
        assert round_["acknowledged"] == round_["in_database"] == round_["on_card"] == 200
        assert round_["final_card_after_s"] is not None
        assert len(round_["bot_cpu_ms_per_vote"]) == 1 and round_["bot_cpu_ms_per_vote"][0] > 0
        assert 0 < round_["loop_cpu_ms_per_vote"] < round_["bot_cpu_ms_per_vote"][0]  # a thread of that process
    assert report["slowest_final_card_s"] == max(r["final_card_after_s"] for r in report["per_round"])
    assert "(target: within 2 s of the last vote)" in run.stdout
    assert report["durable_floor"]["cpu_ms_per_vote"] > 0
    assert [r["postgres_cpu_ms_per_vote"] is not None for r in report["per_round"]] == [False] * 4 + [True]
    assert "votes/s = min(N x 1000 / bot_cpu_ms_per_vote, C x 1000 / postgres_cpu_ms_per_vote)" in run.stdout


def test_short_cluster_benchmark_runs_two_instances_behind_haproxy(tmp_path):
    report_path = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--cluster", "2", "--votes", "200", "--rounds", "1",
         "--json", str(report_path)], capture_output=True, text=True, timeout=300,
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(report_path.read_text())
    assert report["lost_votes"] == 0 and report["problems"] == []
    assert [(row["database"], row["instances"]) for row in report["per_database"]] == [
        ("sqlite", 1), ("postgresql", 1), ("postgresql", 2)]
    assert len(report["per_database"][2]["bot_cpu_ms_per_vote"]) == 2
    assert "2 instances / 1 instance on PostgreSQL" in run.stdout
