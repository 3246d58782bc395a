"""The Dockerfile cannot be built here; its essentials are checked as text."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in joined.splitlines() if line.strip()]


def env() -> dict[str, str]:
    pairs = [pair.split("=", 1) for name, args in instructions() if name == "ENV" for pair in args.split()]
    return dict(pairs)


def test_slim_python_3_11_base_and_a_non_root_user_at_run_time():
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [args for name, args in steps if name == "USER"]
    assert users and users[-1] not in ("root", "0"), "the bot must not run as root"
    run = " ".join(args for name, args in steps if name == "RUN")
    assert "pip install --no-cache-dir /src" in run and f"useradd --system --uid 10001 --no-create-home {users[-1]}" in run


def test_database_on_a_volume_listening_on_all_interfaces():
    steps = instructions()
    assert ("VOLUME", "/data") in steps
    assert env()["POLL_BOT_DB"].startswith("/data/")
    assert env()["HOST"] == "0.0.0.0" and ("EXPOSE", env()["PORT"]) in steps
    assert float(env()["POLL_BOT_SHUTDOWN_SECONDS"]) < 10, "docker stop kills after 10 s"
    assert steps[-1] == ("CMD", '["poll-bot", "serve"]')


def test_healthcheck_asks_healthz_with_python():
    (check,) = [args for name, args in instructions() if name == "HEALTHCHECK"]
    assert "CMD python -c" in check and "urllib.request" in check and "/healthz" in check


def test_the_build_context_holds_what_pip_install_needs_and_no_local_state():
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore.index("*") < ignore.index("!poll_bot/"), "everything is left out but what is listed"
    for needed in ("pyproject.toml", "README.md", "poll_bot/", "templates/", "db/", "manifest/"):
        assert f"!{needed}" in ignore
