"""The room's furniture: every error of compliance lives in ``compliance/errors.py``, and the
face keeps exporting the declaration types from their new home."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import compliance


def _modules(package: str) -> list[str]:
    root = importlib.import_module(package)
    return [
        info.name
        for info in pkgutil.iter_modules(root.__path__, f"{package}.")
        if not info.name.endswith(".migrations")
    ]


def test_every_exception_is_defined_in_errors() -> None:
    misplaced = [
        f"{name}.{cls.__name__}"
        for name in _modules("compliance")
        for cls in vars(importlib.import_module(name)).values()
        if inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__ == name
        if name != "compliance.errors"
    ]
    assert misplaced == []


def test_the_face_exports_the_declaration_types() -> None:
    from compliance import register

    for name in ("ActionType", "ProcessingActivity", "RetentionPolicy", "Declarations"):
        assert getattr(compliance, name) is getattr(register, name)
    assert compliance.RetentionExecutor is register.RetentionExecutor
