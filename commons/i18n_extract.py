"""Message extraction for ``make messages``: Babel's Python extractor, plus the help texts of
the command line.

A command's help is its docstring, and an option's, an argument's or a group's is the
``help="..."`` given to Typer. A docstring cannot be wrapped in ``N_``, and wrapping every
``help=`` would only add noise; so this extractor adds, to what Babel's own finds (``_``,
``N_``, ``ngettext``):

- every string constant given as ``help=`` to a call (``typer.Option``, ``typer.Argument``,
  ``typer.Typer``, ``@cli.command(help=...)``);
- the docstring of every function that is a command: decorated with ``@<app>.command`` or
  ``@<app>.callback``, or taking a ``typer.Option`` or ``typer.Argument`` parameter.

Each is extracted as ``inspect.cleandoc`` leaves it, which is the text Typer gives Click, so
that the command line (``gateway.cli``) finds its translation by the same ``msgid``. Nothing
here runs when the command line does.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python

_COMMAND_DECORATORS = frozenset({"command", "callback"})
_PARAMETER_FACTORIES = frozenset({"Option", "Argument"})

Extracted = tuple[int, str | None, Any, list[str]]


def extract(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[Extracted]:
    """Babel's extraction of ``fileobj``, then its help texts (a ``babel.cfg`` method)."""
    source = fileobj.read()
    fileobj.seek(0)
    found: Iterator[Any] = extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    yield from found  # (line, function, message(s), comments): Babel's stubs say otherwise
    yield from ((line, None, text, []) for line, text in help_texts(source))


def help_texts(source: bytes | str) -> Iterator[tuple[int, str]]:
    """The help texts in ``source`` (a module's text), with their line numbers."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "help" and _is_text(keyword.value):
                    text = inspect.cleandoc(keyword.value.value)  # type: ignore[attr-defined]
                    yield keyword.value.lineno, text
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _is_command(node):
            docstring = ast.get_docstring(node, clean=True)
            if docstring:
                yield node.body[0].lineno, docstring


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _is_command(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if any(
        isinstance(d, ast.Call | ast.Attribute) and _name(d) in _COMMAND_DECORATORS
        for d in function.decorator_list
    ):
        return True
    arguments = function.args
    parameters = (*arguments.args, *arguments.kwonlyargs)
    defaults = (*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None))
    return any(
        isinstance(node, ast.Call) and _name(node) in _PARAMETER_FACTORIES
        for expression in (*(p.annotation for p in parameters if p.annotation), *defaults)
        for node in ast.walk(expression)
    )
