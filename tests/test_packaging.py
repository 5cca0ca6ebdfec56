"""What ``pip install .`` installs: every package folder, under the names pyproject.toml gives."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_every_package_folder_is_installed_and_cli_is_not_a_bare_top_level_name():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {v: k for k, v in conf["package-dir"].items()}  # folder -> package name
    found = set()
    for init in ROOT.glob("*/**/__init__.py"):
        rel = init.parent.relative_to(ROOT)
        top = rel.parts[0]
        if top not in ("ecgseg", "ecgnet", "cli"):
            continue
        name = ".".join((folders.get(top, top),) + rel.parts[1:])
        found.add(name)
    assert found == set(conf["packages"]), sorted(found ^ set(conf["packages"]))
    assert "cli" not in conf["packages"] and "ecg_cli" in conf["packages"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"ecg": "ecg_cli.main:main"}
