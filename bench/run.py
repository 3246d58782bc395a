"""`make bench`: one busy channel poll under a vote stampede, against baselines.

On loopback it starts the bot (fresh database), a fake Bot Connector that
enforces Teams' per-thread limits (429 + Retry-After), and a closed-loop load
generator: one poll in one channel, then N distinct users vote at C concurrent
clients. Each round votes four times, on fresh bots: by Action.Submit (messages)
and by Action.Execute (`adaptiveCard/action` invokes, each answered with the
voter's own card), each on a named poll and on an anonymous one (`poll
--anonymous`, its votes kept under keyed hashes). Voters have Teams-shaped ids.
The same load then goes to a do-nothing bot on the stock CloudAdapter and to a
bare aiohttp JSON handler. Each target runs --rounds times, interleaved;
figures are medians.

The Submit load also goes to one instance on PostgreSQL (a throwaway server
flushing every commit, like SQLite's synchronous=FULL). CPU is read from /proc
for the load's duration: each instance's, and the PostgreSQL server's with all
its backends, per vote. From those, the report projects N instances on N
machines. `--cluster N` instead compares one SQLite instance, one PostgreSQL
instance and N PostgreSQL instances behind HAProxy (`make bench-cluster`).

Exit status 1 when a vote is lost, the final card is wrong or an invoke is not
answered with the voter's card (never on timing).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import aiohttp  # noqa: E402
import cpu  # noqa: E402
import loadgen  # noqa: E402

from tests.support import cards, teams  # noqa: E402
from tests.support.bot_process import start_bot  # noqa: E402
from tests.support.cluster import Cluster  # noqa: E402
from tests.support.databases import PostgresBackend, PostgresServer, SqliteBackend  # noqa: E402
from tests.support.fake_connector import FakeConnector, TeamsLimits  # noqa: E402
from tests.support.net import free_port  # noqa: E402

OPTIONS = ["Pizza", "Sushi", "Tacos", "Curry"]
VOTERS = re.compile(r"^([\d,]+) (?:person|people) voted$")  # the English card: "1,000 people voted"


@dataclass(frozen=True)
class Target:
    """What a bot round runs: how presses arrive, on which database, how many instances, which poll."""
    path: str  # "submit" or "invoke"
    database: str = "sqlite"  # or "postgresql"
    instances: int = 1  # more than one: behind HAProxy
    poll: str = "named"  # or "anonymous" (`poll --anonymous`)

    @property
    def name(self) -> str:
        return (f"{self.path}, {self.database}, {self.instances} instance{'s' if self.instances > 1 else ''}"
                + (", anonymous poll" if self.poll == "anonymous" else ""))


@dataclass
class BotRound:
    path: str  # "submit" or "invoke"
    database: str
    instances: int
    poll: str
    votes_per_s: float
    p50_ms: float
    p99_ms: float
    acknowledged: int
    in_database: int
    on_card: int
    puts: int
    throttled: int
    final_card_after_s: float | None
    bot_cpu_ms_per_vote: list[float]  # each instance's CPU from the first vote to the final card, per vote
    loop_cpu_ms_per_vote: float  # of it, the first instance's event loop thread (the rest: its database threads)
    postgres_cpu_ms_per_vote: float | None  # the server's and all its backends' (None on SQLite)
    problems: list[str] = field(default_factory=list)


def start(args: list[str], port: int) -> subprocess.Popen:
    """A baseline server, once it accepts connections."""
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{args} exited with {process.returncode}")
            time.sleep(0.05)
    raise TimeoutError(args)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def teams_user_id(n: int) -> str:
    """The n-th voter's id, shaped like Teams' ("29:1" and 84 random-looking characters, as in the
    seeds). Ids in counting order would reach SQLite's indexes in order, a cheaper insert than real
    ids get (and than an anonymous poll's keyed hashes)."""
    digest = base64.urlsafe_b64encode(hashlib.sha512(f"bench-voter-{n}".encode()).digest()).decode()
    return "29:1" + digest[:84]


def vote_bodies(chat: teams.Chat, card_id: str, buttons: dict, service_url: str, votes: int,
                path: str = "submit") -> list[bytes]:
    press = teams.invoke if path == "invoke" else teams.submit
    bodies = []
    for i in range(votes):
        voter = teams.Person(teams_user_id(i), f"Voter {i}")
        data = buttons[OPTIONS[i % len(OPTIONS)]]
        bodies.append(json.dumps(press(chat, voter, data, card_id, service_url)).encode())
    return bodies


def shows_own_vote(answer: bytes, option: str) -> bool:
    """An invoke answered with the voter's own card, their option marked."""
    body = json.loads(answer)
    if body.get("type") != "application/vnd.microsoft.card.adaptive":
        return False
    rows = [row["items"][0]["columns"][0]["items"][0]["inlines"] for row in body["value"]["body"]
            if row.get("type") == "Container"]
    return any(runs[1]["text"] == option and len(runs) == 3 for runs in rows)


def voters_on(card: dict) -> int | None:
    for block in card["body"]:
        match = VOTERS.match(block.get("text", "")) if block.get("type") == "TextBlock" else None
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def counts_on(card: dict) -> dict[str, int]:
    """Each option's count as the card shows it ("250 votes · 25%" -> 250), options with none left out."""
    counts = {label: int(text.split()[0].replace(",", "")) for label, text in cards.option_counts(card).items()}
    return {label: n for label, n in counts.items() if n}


async def post_poll(port: int, chat: teams.Chat, connector: FakeConnector, poll: str) -> tuple[str, dict]:
    flags = "--anonymous " if poll == "anonymous" else ""
    text = f"poll {flags}Where do we eat after the release? | " + " | ".join(OPTIONS)
    activity = teams.message(chat, teams.MEGAN, text, connector.url)
    async with aiohttp.ClientSession() as session:
        await session.post(f"http://127.0.0.1:{port}/api/messages", json=activity)
    for _ in range(500):
        if connector.cards(chat.id):
            break
        await asyncio.sleep(0.01)
    card_id = connector.calls_of("POST")[-1].activity_id
    card = connector.card(chat.id, card_id)
    buttons = {block["selectAction"]["title"]: block["selectAction"]["data"] for block in card["body"]
               if block.get("selectAction")}
    return card_id, buttons


async def bot_round(votes: int, concurrency: int, target: Target, databases: dict,
                    postgres: PostgresServer | None) -> BotRound:
    connector = FakeConnector(limits=TeamsLimits())
    await connector.start()
    db = databases[target.database].new_database()
    port, cluster, bots = free_port(), None, []
    try:
        if target.instances == 1:
            bots = [await start_bot(db, port)]
        else:
            cluster = Cluster(db, target.instances)
            await cluster.start()
            port, bots = cluster.port, cluster.processes
        chat = teams.channel_thread()
        card_id, buttons = await post_poll(port, chat, connector, target.poll)
        bodies = vote_bodies(chat, card_id, buttons, connector.url, votes, target.path)
        cpu_before, loop_before = cpu_seconds(bots, postgres), cpu.main_thread_seconds(bots[0].pid)
        results = await loadgen.run("127.0.0.1", port, bodies, concurrency)
        last_ack = max(r.finished for r in results)
        acknowledged = sum(1 for r in results if 200 <= r.status < 300)
        final_after = await wait_for_card(connector, chat.id, card_id, acknowledged, last_ack)
        cpu_after, loop_after = cpu_seconds(bots, postgres), cpu.main_thread_seconds(bots[0].pid)
        final_card = connector.card(chat.id, card_id)
        on_card = voters_on(final_card) or 0
    finally:
        if cluster:
            cluster.stop()
        else:
            for bot in bots:
                stop(bot)
        await connector.stop()
    ((in_database,),) = db.rows("SELECT COUNT(*) FROM votes")
    stored_counts = dict(db.rows("SELECT position, COUNT(*) FROM votes GROUP BY position"))
    latencies = [r.latency * 1000 for r in results]
    span = last_ack - min(r.started for r in results)
    round_ = BotRound(
        path=target.path, database=target.database, instances=target.instances, poll=target.poll,
        votes_per_s=acknowledged / span, p50_ms=loadgen.percentile(latencies, 0.5),
        p99_ms=loadgen.percentile(latencies, 0.99), acknowledged=acknowledged, in_database=in_database,
        on_card=on_card, puts=len([c for c in connector.calls if c.method == "PUT"]),
        throttled=connector.limits.throttled, final_card_after_s=final_after,
        bot_cpu_ms_per_vote=[1000 * (a - b) / votes for a, b in zip(cpu_after[0], cpu_before[0])],
        loop_cpu_ms_per_vote=1000 * (loop_after - loop_before) / votes,
        postgres_cpu_ms_per_vote=1000 * (cpu_after[1] - cpu_before[1]) / votes if postgres else None,
    )
    if acknowledged != votes:
        round_.problems.append(f"{target.name}: {votes - acknowledged} votes were not acknowledged")
    if in_database != acknowledged:
        round_.problems.append(f"{target.name}: database holds {in_database} votes, {acknowledged} were acknowledged")
    if on_card != acknowledged:
        round_.problems.append(f"{target.name}: final card shows {on_card} voters, {acknowledged} were acknowledged")
    if counts_on(final_card) != {OPTIONS[position]: n for position, n in stored_counts.items()}:
        round_.problems.append(f"{target.name}: final card shows {counts_on(final_card)}, the database "
                               f"{stored_counts} (by option position)")
    if target.path == "invoke":
        # The load generator sends the bodies in order, so answer i is voter i's.
        wrong = sum(1 for i, r in enumerate(sorted(results, key=lambda r: r.started))
                    if not shows_own_vote(r.body, OPTIONS[i % len(OPTIONS)]))
        if wrong:
            round_.problems.append(f"{target.name}: {wrong} invokes were not answered with the voter's own card")
    return round_


def cpu_seconds(bots: list[subprocess.Popen], postgres: PostgresServer | None) -> tuple[list[float], float]:
    """CPU used so far by each bot process, and by the PostgreSQL server with its backends (0 without)."""
    return [cpu.process_seconds(bot.pid) for bot in bots], cpu.tree_seconds(postgres.pid) if postgres else 0.0


async def wait_for_card(connector: FakeConnector, chat_id: str, card_id: str, expected: int,
                        since: float, timeout: float = 60.0) -> float | None:
    while time.perf_counter() - since < timeout:
        if voters_on(connector.card(chat_id, card_id)) == expected:
            return time.perf_counter() - since
        await asyncio.sleep(0.005)
    return None


async def baseline_round(kind: str, votes: int, concurrency: int, *extra: str) -> tuple[float, float, float, float]:
    """requests/s, p50 and p99 in ms, and the server's CPU per request in ms."""
    port = free_port()
    server = start([sys.executable, str(ROOT / "bench" / "baselines.py"), kind, str(port), *extra], port)
    try:
        chat = teams.channel_thread()
        buttons = {o: {"v": 1, "verb": "poll.vote", "poll": 1, "option": i} for i, o in enumerate(OPTIONS)}
        bodies = vote_bodies(chat, "1000", buttons, "http://127.0.0.1:9/", votes)
        cpu_before = cpu.process_seconds(server.pid)
        results = await loadgen.run("127.0.0.1", port, bodies, concurrency)
        cpu_ms = 1000 * (cpu.process_seconds(server.pid) - cpu_before) / votes
    finally:
        stop(server)
    ok = [r for r in results if 200 <= r.status < 300]
    span = max(r.finished for r in results) - min(r.started for r in results)
    latencies = [r.latency * 1000 for r in results]
    return len(ok) / span, loadgen.percentile(latencies, 0.5), loadgen.percentile(latencies, 0.99), cpu_ms


def main() -> int:
    parser = argparse.ArgumentParser(description="Poll Bot vote-stampede benchmark")
    parser.add_argument("--votes", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-baselines", action="store_true", help="short mode: only the bot, for CI")
    parser.add_argument("--cluster", type=int, metavar="N", help="only the PostgreSQL table: one SQLite instance, "
                        "one PostgreSQL instance and N PostgreSQL instances behind HAProxy")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.cluster:
        targets = [Target("submit"), Target("submit", "postgresql"), Target("submit", "postgresql", args.cluster)]
    else:
        targets = [Target("submit"), Target("submit", poll="anonymous"), Target("invoke"),
                   Target("invoke", poll="anonymous"), Target("submit", "postgresql")]

    postgres = PostgresServer.start(durable=True)
    try:
        report = asyncio.run(measure(args, targets, postgres))
    finally:
        postgres.stop()
    print(render(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if report["problems"] else 0


async def measure(args, targets: list[Target], postgres: PostgresServer) -> dict:
    bot_rounds, stock, bare, floor = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        databases = {"sqlite": SqliteBackend(Path(tmp)), "postgresql": PostgresBackend(postgres)}
        for round_ in range(args.rounds):
            if not (args.skip_baselines or args.cluster):
                stock.append(await baseline_round("stock", args.votes, args.concurrency))
                bare.append(await baseline_round("bare", args.votes, args.concurrency))
                floor.append(await baseline_round("floor", args.votes, args.concurrency,
                                                  str(Path(tmp) / f"floor-{round_}.sqlite3")))
            for target in targets:
                server = postgres if target.database == "postgresql" else None
                bot_rounds.append(await bot_round(args.votes, args.concurrency, target, databases, server))
    return summarize(args, targets, bot_rounds, stock, bare, floor)


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(args, targets: list[Target], bot_rounds: list[BotRound], stock, bare, floor) -> dict:
    def medians(target: Target) -> dict:
        rounds = [r for r in bot_rounds if (r.path, r.database, r.instances, r.poll) ==
                  (target.path, target.database, target.instances, target.poll)]
        figures = {name: _median([getattr(r, name) for r in rounds]) for name in
                   ("votes_per_s", "p50_ms", "p99_ms", "puts", "throttled", "final_card_after_s",
                    "postgres_cpu_ms_per_vote", "loop_cpu_ms_per_vote")}
        figures["bot_cpu_ms_per_vote"] = [_median(each) for each in zip(*(r.bot_cpu_ms_per_vote for r in rounds))]
        figures["cpu_ms_per_vote"] = _median([sum(r.bot_cpu_ms_per_vote) for r in rounds])  # all instances
        return {"name": target.name, "database": target.database, "instances": target.instances, **figures}

    report = {
        "votes": args.votes, "concurrency": args.concurrency, "rounds": args.rounds,
        "bot": medians(Target("submit")),
        "per_database": [medians(t) for t in targets if t.path == "submit" and t.poll == "named"],
        "per_round": [r.__dict__ for r in bot_rounds],
        "problems": [p for r in bot_rounds for p in r.problems],
        "lost_votes": max(max(r.acknowledged - r.in_database, r.acknowledged - r.on_card) for r in bot_rounds),
        # Target (issue 11): the final card is exact within 2 s of the last vote (None: never, in some round).
        "slowest_final_card_s": (None if any(r.final_card_after_s is None for r in bot_rounds)
                                 else max(r.final_card_after_s for r in bot_rounds)),
    }
    one_sqlite, one_postgres = report["per_database"][:2]
    report["ratio_postgres_vs_sqlite"] = one_postgres["votes_per_s"] / one_sqlite["votes_per_s"]
    if args.cluster:
        cluster = report["per_database"][2]
        report["ratio_cluster_vs_one_postgres"] = cluster["votes_per_s"] / one_postgres["votes_per_s"]
    report["projection"] = projection(one_postgres["bot_cpu_ms_per_vote"][0], one_postgres["postgres_cpu_ms_per_vote"])
    if Target("invoke") in targets:
        report["bot_invoke"] = medians(Target("invoke"))
        report["ratio_invoke_vs_submit"] = report["bot_invoke"]["votes_per_s"] / report["bot"]["votes_per_s"]
        report["cpu_ratio_invoke_vs_submit"] = (report["bot_invoke"]["cpu_ms_per_vote"]
                                                / report["bot"]["cpu_ms_per_vote"])
    if Target("submit", poll="anonymous") in targets:
        # Target (issue 11): an anonymous poll's votes/s within 10% of a named poll's, in the same run.
        report["bot_anonymous"] = medians(Target("submit", poll="anonymous"))
        report["bot_invoke_anonymous"] = medians(Target("invoke", poll="anonymous"))
        report["ratio_anonymous_vs_named"] = report["bot_anonymous"]["votes_per_s"] / report["bot"]["votes_per_s"]
        report["ratio_anonymous_vs_named_invoke"] = (report["bot_invoke_anonymous"]["votes_per_s"]
                                                     / report["bot_invoke"]["votes_per_s"])
    if stock:
        report["stock_cloudadapter"] = {"requests_per_s": _median([s[0] for s in stock]),
                                        "p50_ms": _median([s[1] for s in stock]),
                                        "p99_ms": _median([s[2] for s in stock])}
        report["bare_aiohttp"] = {"requests_per_s": _median([b[0] for b in bare]),
                                  "p50_ms": _median([b[1] for b in bare]), "p99_ms": _median([b[2] for b in bare])}
        ours = report["bot"]["votes_per_s"]
        report["durable_floor"] = {"requests_per_s": _median([f[0] for f in floor]),
                                   "p50_ms": _median([f[1] for f in floor]), "p99_ms": _median([f[2] for f in floor]),
                                   "cpu_ms_per_vote": _median([f[3] for f in floor])}
        report["ratio_vs_stock"] = ours / report["stock_cloudadapter"]["requests_per_s"]
        report["ratio_vs_bare"] = ours / report["bare_aiohttp"]["requests_per_s"]
        report["ratio_vs_floor"] = ours / report["durable_floor"]["requests_per_s"]
    return report


def projection(bot_ms: float, postgres_ms: float) -> dict:
    """N instances, each on a machine of its own (one core: one event loop), and PostgreSQL on C
    cores: each is bound by its CPU per vote, so votes/s = min(N / bot, C / postgres)."""
    return {"instance_votes_per_s": 1000 / bot_ms, "postgres_votes_per_s_per_core": 1000 / postgres_ms,
            "formula": "votes/s = min(N x 1000 / bot_cpu_ms_per_vote, C x 1000 / postgres_cpu_ms_per_vote)",
            "instances_per_postgres_core": postgres_ms and bot_ms / postgres_ms}


def render(report: dict) -> str:
    lines = [
        f"Poll Bot benchmark: {report['votes']} distinct voters, {report['concurrency']} concurrent clients, "
        f"medians of {report['rounds']} round(s)",
    ]
    if "bot_invoke" in report:
        lines += render_sqlite(report)
    lines += render_postgres(report)
    lines += [f"  PROBLEM: {p}" for p in report["problems"]]
    return "\n".join(lines)


def _slowest(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.2f} s"


def render_sqlite(report: dict) -> list[str]:
    lines = []
    for title, bot in (("Action.Submit (messages)", report["bot"]),
                       ("Action.Submit, anonymous poll", report["bot_anonymous"]),
                       ("Action.Execute (invokes, answered with the voter's card)", report["bot_invoke"]),
                       ("Action.Execute, anonymous poll", report["bot_invoke_anonymous"])):
        final = bot["final_card_after_s"]  # median
        lines += [
            f" {title}",
            f"  votes accepted/s        {bot['votes_per_s']:.0f}",
            f"  bot CPU per vote        {bot['cpu_ms_per_vote']:.2f} ms"
            f" (event loop thread {bot['loop_cpu_ms_per_vote']:.2f} ms, database thread the rest)",
            f"  /api/messages latency   p50 {bot['p50_ms']:.1f} ms, p99 {bot['p99_ms']:.1f} ms",
            f"  PUTs sent               {bot['puts']:.0f}",
            f"  429s received           {bot['throttled']:.0f}",
            f"  final card after        {_slowest(final)} (from the last vote's ack)",
        ]
    lines += [
        f"  invoke votes/s are {report['ratio_invoke_vs_submit']:.2f}x the Submit path's"
        f" (CPU per vote {report['cpu_ratio_invoke_vs_submit']:.2f}x)",
        f"  anonymous poll votes/s are {report['ratio_anonymous_vs_named']:.2f}x a named poll's (Submit), "
        f"{report['ratio_anonymous_vs_named_invoke']:.2f}x (Execute); target: within 10%",
        f"  votes lost              {report['lost_votes']} (acknowledged vs database vs card)",
        f"  final card exact after  {_slowest(report['slowest_final_card_s'])} at most, in every round"
        f" (target: within 2 s of the last vote)",
    ]
    if "ratio_vs_stock" in report:
        stock, bare, floor = report["stock_cloudadapter"], report["bare_aiohttp"], report["durable_floor"]
        lines += [
            f"  durable floor           {floor['requests_per_s']:.0f} req/s (p99 {floor['p99_ms']:.1f} ms, one SQLite"
            f" commit per vote, CPU {floor['cpu_ms_per_vote']:.2f} ms per vote)  -> ours (Submit) is"
            f" {report['ratio_vs_floor']:.2f}x",
            f"  stock CloudAdapter      {stock['requests_per_s']:.0f} req/s (p99 {stock['p99_ms']:.1f} ms)"
            f"  -> ours is {report['ratio_vs_stock']:.1f}x",
            f"  bare aiohttp handler    {bare['requests_per_s']:.0f} req/s (p99 {bare['p99_ms']:.1f} ms)"
            f"  -> ours is {report['ratio_vs_bare']:.2f}x",
        ]
    return lines


def render_postgres(report: dict) -> list[str]:
    lines = [" PostgreSQL (Action.Submit; every commit flushed to disk on both databases; CPU per vote from the"
             " first vote to the final card)",
             f"  {'':40} {'votes/s':>8} {'p99 ms':>8} {'429s':>5}  {'PostgreSQL CPU':>14}  bot CPU, each instance"]
    for row in report["per_database"]:
        name = f"{row['database']}, {row['instances']} instance" + (
            "s behind HAProxy" if row["instances"] > 1 else "")
        each = " ".join(f"{ms:.3f}" for ms in row["bot_cpu_ms_per_vote"])
        total = f" (sum {sum(row['bot_cpu_ms_per_vote']):.3f})" if row["instances"] > 1 else ""
        pg = "-" if row["postgres_cpu_ms_per_vote"] is None else f"{row['postgres_cpu_ms_per_vote']:.3f} ms/vote"
        lines.append(f"  {name:40} {row['votes_per_s']:8.0f} {row['p99_ms']:8.1f} {row['throttled']:5.0f}  {pg:>14}"
                     f"  {each} ms/vote{total}")
    lines.append(f"  PostgreSQL / SQLite votes/s, one instance each: {report['ratio_postgres_vs_sqlite']:.2f}x"
                 " (target: at least 0.7x)")
    if "ratio_cluster_vs_one_postgres" in report:
        lines.append(f"  {report['per_database'][2]['instances']} instances / 1 instance on PostgreSQL: "
                     f"{report['ratio_cluster_vs_one_postgres']:.2f}x (all on this one machine's "
                     f"{os.cpu_count()} cores: more instances add no CPU)")
    plan = report["projection"]
    lines += [
        "  Projection, N instances on N machines (one core each) and PostgreSQL on C cores:",
        f"    {plan['formula']}",
        f"    = min(N x {plan['instance_votes_per_s']:.0f}, C x {plan['postgres_votes_per_s_per_core']:.0f});"
        f" PostgreSQL becomes the bound past N = {plan['instances_per_postgres_core']:.2f} x C",
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
