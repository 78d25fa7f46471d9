"""The help's own words (``Usage:``, ``Options``, ``Arguments``, ``Commands``,
``[required]``, ``[default: ...]``, ``Show this message and exit.``) in the command line's
language, next to the commands' help texts (``gateway.cli``).

Typer says most of them through the standard library's ``gettext``, which reads only
compiled ``.mo`` files in the system's locale directories, while the command line's
catalogue is the portal's ``.po`` files (``commons.i18n``). So, once the command line
speaks another language than English, :func:`speak` points the ``_`` that ``typer.core``
imported at the catalogue (it follows the command line's language at each message from then
on, English included). Two words Typer writes without ``gettext``, the usage line's prefix
and the help option's text, are said by :func:`localize` for each command. Typer fills in
placeholders itself, so a translation keeps them as they are. Usage errors below the help
("Missing option", "Try ... for help") stay English: Typer writes them without ``gettext``.
"""

from __future__ import annotations

import functools
import gettext
from typing import Any

import typer
import typer.core

from commons.i18n import N_, SOURCE_LANGUAGE, translate, unfilled_gettext

# The words of the help, marked for the catalogue (Typer's own msgids).
WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Arguments"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("default: {default}"),
    N_("required"),
    N_("env var: {var}"),
    N_("(dynamic)"),
    N_("Aborted!"),
    N_("Missing command."),
    N_("No such command {name!r}."),
)
_USAGE = "Usage:"
_HELP_OPTION = "Show this message and exit."


def speak(language: str) -> None:
    """Let Typer say its words from the catalogue once the command line speaks
    ``language``; once per process is enough."""
    if language == SOURCE_LANGUAGE:
        return  # Typer's own words are English: nothing to change
    if getattr(typer.core, "_", None) is gettext.gettext:
        setattr(typer.core, "_", unfilled_gettext)  # noqa: B010 (a name Typer does not export)


def localize(command: Any, language: str) -> None:
    """The usage prefix and the help option of ``command`` in ``language``."""
    command.context_class = _speaking(command.context_class, translate(language, _USAGE))
    option = command.get_help_option(command.context_class(command))
    if option is not None and option.help == _HELP_OPTION:
        option.help = translate(language, _HELP_OPTION)


@functools.cache
def _speaking(context_class: type[typer.Context], usage: str) -> type[typer.Context]:
    """``context_class`` whose help formatter starts the usage line with ``usage``."""
    base: Any = context_class.formatter_class

    class Formatter(base):  # type: ignore[misc]
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, f"{usage} " if prefix is None else prefix)

    return type(context_class.__name__, (context_class,), {"formatter_class": Formatter})
