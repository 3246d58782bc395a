"""Locate the card templates and SQL migrations.

In a wheel they are shipped inside the package; in a source checkout (or an
editable install) they sit at the top of the repository.
"""
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{name}/ is missing from both the package and the source tree")
