"""Build the Teams app package: python manifest/pack.py --app-id <GUID> [--out poll-bot.zip]

The manifest in git carries a placeholder GUID; the package gets your bot's
Microsoft App ID as both the Teams app id and the bot id.
"""
from __future__ import annotations

import argparse
import json
import uuid
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pack(app_id: str, out: Path, version: str | None = None) -> Path:
    app_id = str(uuid.UUID(app_id))
    manifest = json.loads((HERE / "manifest.json").read_text())
    manifest["id"] = app_id
    manifest["bots"][0]["botId"] = app_id
    manifest["webApplicationInfo"]["id"] = app_id
    if version:
        manifest["version"] = version
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        for icon in ("color.png", "outline.png"):
            package.write(HERE / icon, icon)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-id", required=True, help="the bot's Microsoft App ID (a GUID)")
    parser.add_argument("--out", default="poll-bot.zip", type=Path)
    parser.add_argument("--version", help="override the manifest version")
    args = parser.parse_args()
    print(pack(args.app_id, args.out, args.version))


if __name__ == "__main__":
    main()
