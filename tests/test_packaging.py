"""The wheel carries templates/, db/, the translations and the Teams manifest with its icons and schema, and
`poll-bot package` builds a valid v1.23 app package, from the source tree and from the wheel."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from tests.support.bot_process import POLL_BOT

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "6f1c2b3a-0d4e-4f50-8a6b-7c8d9e0f1a2b"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
    )
    (built,) = out.glob("poll_bot-*.whl")
    return built


def test_wheel_ships_templates_migrations_translations_and_the_manifest_inside_the_package(wheel, tmp_path):
    names = zipfile.ZipFile(wheel).namelist()
    for template in (ROOT / "templates").glob("*.json.j2"):
        assert f"poll_bot/templates/{template.name}" in names
    migrations = [m.relative_to(ROOT / "db").as_posix() for m in (ROOT / "db").rglob("*.sql")]
    assert "pg/005_baseline.sql" in migrations
    for migration in migrations:
        assert f"poll_bot/db/{migration}" in names
    for name in ("manifest.json", "color.png", "outline.png", "schema/MicrosoftTeams.v1.23.schema.json"):
        assert f"poll_bot/manifest/{name}" in names
    for catalog in (ROOT / "poll_bot" / "locale").rglob("*.po"):
        assert f"poll_bot/{catalog.relative_to(ROOT / 'poll_bot').as_posix()}" in names

    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    probe = ("from poll_bot.resources import resource_dir; from poll_bot.cards import render_card;"
             "from poll_bot.features.poll_views import poll_form_view;"
             "print(resource_dir('templates')); print(resource_dir('db')); print(resource_dir('manifest'));"
             "render_card('poll_form', form=poll_form_view(1, {}));"
             "from poll_bot import i18n\nwith i18n.using('de-DE'): print(render_card('deleted', subject='poll')['fallbackText'])")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, check=True, capture_output=True, text=True,
                         env={"PYTHONPATH": str(installed)}).stdout.splitlines()
    assert out == [str(installed / "poll_bot" / name) for name in ("templates", "db", "manifest")] + [
        "Diese Umfrage wurde gelöscht."]


def test_package_from_the_installed_wheel(wheel, tmp_path):
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    done = subprocess.run([sys.executable, "-m", "poll_bot", "package", "--app-id", APP_ID, "--out", "app.zip"],
                          cwd=tmp_path, env={"PYTHONPATH": str(installed)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert_valid_package(tmp_path / "app.zip")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def assert_valid_package(package: Path, app_id: str = APP_ID) -> dict:
    with zipfile.ZipFile(package) as z:
        assert sorted(z.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(z.read("manifest.json"))
        color, outline = z.read("color.png"), z.read("outline.png")
    schema = json.loads((ROOT / "manifest" / "schema" / "MicrosoftTeams.v1.23.schema.json").read_text())
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(manifest))
    assert not errors, [e.message for e in errors]
    assert manifest["manifestVersion"] == "1.23"
    assert manifest["id"] == manifest["bots"][0]["botId"] == manifest["webApplicationInfo"]["id"] == app_id
    rsc = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "ChatMessageReadReceipt.Read.Chat", "type": "Application"} in rsc
    assert _png_size(color) == (192, 192)
    assert _png_size(outline) == (32, 32)
    return manifest


def poll_bot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(POLL_BOT), *args], cwd=cwd, capture_output=True, text=True)


def test_poll_bot_package_builds_a_valid_v1_23_package(tmp_path):
    done = poll_bot("package", "--app-id", APP_ID.upper(), "--out", "poll-bot.zip", "--app-version", "1.2.0",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "poll-bot.zip"
    manifest = assert_valid_package(tmp_path / "poll-bot.zip")
    assert manifest["version"] == "1.2.0"


@pytest.mark.parametrize("bad", ["not-a-guid", "6f1c2b3a0d4e4f508a6b7c8d9e0f1a2b", f"{{{APP_ID}}}", f"{APP_ID}0",
                                 "00000000-0000-0000-0000-000000000000", ""])
def test_a_bad_app_id_stops_with_exit_2_and_writes_nothing(tmp_path, bad):
    done = poll_bot("package", "--app-id", bad, "--out", "app.zip", cwd=tmp_path)
    assert done.returncode == 2
    assert "--app-id: the app id must be the bot's Microsoft App ID, a GUID" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_manifest_the_schema_refuses_is_not_written(tmp_path):
    done = poll_bot("package", "--app-id", APP_ID, "--out", "app.zip", "--app-version", "1" * 300, cwd=tmp_path)
    assert done.returncode == 1
    assert "does not match the Teams schema v1.23" in done.stderr and "version:" in done.stderr
    assert list(tmp_path.iterdir()) == []
