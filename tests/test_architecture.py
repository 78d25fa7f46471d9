"""The rules of the house that the import-linter cannot express (see style.md, issue 11):

- a room (a domain or the gateway) uses another room only through a face: a package's
  ``__init__`` (the room's own, or a sub-package's such as the device-side ``vault.client``),
  never a plain module; ``commons`` is the floor of shared plumbing, whose modules are its
  surface;
- no module imports another module's ``_private`` names;
- ``ozg-commons --help`` lists every group without importing a component's command-line,
  web or database code.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("account", "vault", "payments", "compliance", "gateway")
PACKAGES = ("commons", *ROOMS)


def _modules() -> list[tuple[str, Path]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # frozen copies of the schema, by design
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((module.removesuffix(".__init__"), path))
    return found


def _is_package(module: str) -> bool:
    return (ROOT.joinpath(*module.split(".")) / "__init__.py").is_file()


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    result = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            result.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            result += [(node.lineno, a.name, []) for a in node.names]
    return result


def test_rooms_use_each_other_only_through_their_faces() -> None:
    breaches = []
    for module, path in _modules():
        room = module.split(".")[0]
        for line, imported, _names in _imports(path):
            top = imported.split(".")[0]
            if top in ROOMS and top != room and not _is_package(imported):
                breaches.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert breaches == []


def test_no_module_imports_another_modules_private_names() -> None:
    breaches = []
    for module, path in _modules():
        for line, imported, names in _imports(path):
            if imported.split(".")[0] not in PACKAGES or imported == module:
                continue
            # `_` is gettext's translation function (commons.i18n), public by convention
            private = [n for n in names if n.startswith("_") and n != "_" and n[:2] != "__"]
            if private:
                breaches.append(f"{path.relative_to(ROOT)}:{line} {imported}: {private}")
    assert breaches == []


@pytest.mark.parametrize("package", PACKAGES)
def test_each_face_exports_what_it_names(package: str) -> None:
    code = (
        f"import {package}; missing = [n for n in {package}.__all__ "
        f"if not hasattr({package}, n)]; print(missing)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"


def test_help_imports_no_component_code() -> None:
    code = (
        "import sys, runpy; sys.argv = ['ozg-commons', '--help']\n"
        "try:\n    runpy.run_module('gateway', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'sqlalchemy', 'httpx', 'cryptography', 'pydantic_settings', 'alembic'))\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "accounts" in done.stdout  # the groups are listed
    assert "vault" in done.stdout
    assert done.stderr.strip() == "[]"
