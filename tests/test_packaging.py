"""The wheel carries templates/ and db/, and the Teams manifest is valid."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "manifest"))
import pack  # noqa: E402


def test_wheel_ships_templates_and_migrations_inside_the_package(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    (wheel,) = tmp_path.glob("poll_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for template in (ROOT / "templates").glob("*.json.j2"):
        assert f"poll_bot/templates/{template.name}" in names
    migrations = [m.relative_to(ROOT / "db").as_posix() for m in (ROOT / "db").rglob("*.sql")]
    assert "pg/005_baseline.sql" in migrations
    for migration in migrations:
        assert f"poll_bot/db/{migration}" in names

    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    probe = ("from poll_bot.resources import resource_dir; from poll_bot.cards import render_card;"
             "from poll_bot.features.poll_views import poll_form_view;"
             "print(resource_dir('templates')); print(resource_dir('db'));"
             "render_card('poll_form', form=poll_form_view(1, {}))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, check=True, capture_output=True, text=True,
                         env={"PYTHONPATH": str(installed)}).stdout.split()
    assert out == [str(installed / "poll_bot" / "templates"), str(installed / "poll_bot" / "db")]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_app_package_is_a_valid_v1_23_manifest_with_the_right_icons(tmp_path):
    package = pack.pack("6f1c2b3a-0d4e-4f50-8a6b-7c8d9e0f1a2b", tmp_path / "app.zip")
    with zipfile.ZipFile(package) as z:
        manifest = json.loads(z.read("manifest.json"))
        color, outline = z.read("color.png"), z.read("outline.png")
    schema = json.loads((ROOT / "tests" / "schemas" / "MicrosoftTeams.v1.23.schema.json").read_text())
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(manifest))
    assert not errors, [e.message for e in errors]
    assert manifest["id"] == manifest["bots"][0]["botId"] == "6f1c2b3a-0d4e-4f50-8a6b-7c8d9e0f1a2b"
    assert manifest["webApplicationInfo"]["id"] == manifest["id"]
    rsc = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "ChatMessageReadReceipt.Read.Chat", "type": "Application"} in rsc
    assert _png_size(color) == (192, 192)
    assert _png_size(outline) == (32, 32)
