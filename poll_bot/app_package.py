"""The Teams app package: manifest/manifest.json with the bot's Microsoft App ID filled in,
checked against the Teams manifest schema v1.23, zipped with the two icons."""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import jsonschema

from .resources import resource_dir

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")  # the schema's own pattern
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
SCHEMA = "schema/MicrosoftTeams.v1.23.schema.json"
ICONS = ("color.png", "outline.png")


def parse_app_id(text: str) -> str:
    if not GUID.match(text) or text == PLACEHOLDER:
        raise ValueError(f"the app id must be the bot's Microsoft App ID, a GUID such as "
                         f"6f1c2b3a-0d4e-4f50-8a6b-7c8d9e0f1a2b, not {text!r}")
    return text.lower()


def manifest_for(app_id: str, version: str | None = None) -> dict[str, Any]:
    manifest = json.loads((resource_dir("manifest") / "manifest.json").read_text())
    manifest["id"] = app_id
    manifest["bots"][0]["botId"] = app_id
    manifest["webApplicationInfo"]["id"] = app_id
    if version:
        manifest["version"] = version
    return manifest


def schema_problems(manifest: dict[str, Any]) -> list[str]:
    """What the v1.23 schema finds wrong with the manifest, one line each (none if valid)."""
    schema = json.loads((resource_dir("manifest") / SCHEMA).read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, error.absolute_path)) or 'manifest'}: {error.message}"
            for error in validator.iter_errors(manifest)]


def write_package(manifest: dict[str, Any], out: Path) -> None:
    folder = resource_dir("manifest")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        for icon in ICONS:
            package.write(folder / icon, icon)
