"""The room's furniture: every error of account lives in ``account/errors.py``; the face keeps
exporting the errors that moved there."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import account
from account import errors


def test_every_exception_is_defined_in_errors() -> None:
    names = [
        info.name
        for info in pkgutil.iter_modules(account.__path__, "account.")
        if not info.name.endswith(".migrations")
    ]
    misplaced = [
        f"{name}.{cls.__name__}"
        for name in names
        for cls in vars(importlib.import_module(name)).values()
        if inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__ == name
        if name != "account.errors"
    ]
    assert misplaced == []


def test_the_face_still_exports_the_guard_errors() -> None:
    assert account.InsufficientScope is errors.InsufficientScope
    assert account.InsufficientUserAuthentication is errors.InsufficientUserAuthentication
