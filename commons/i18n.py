"""Messages in the user's language, from the one message catalogue the portal uses too.

Every message is an English ``msgid``; the translations are the gettext catalogues
``<dir>/<lang>/LC_MESSAGES/messages.po`` (today German and English, in
``gateway/portal/locales``, extracted and updated with ``pybabel``: docs/portal.md,
"Languages"). The ``.po`` files are compiled in memory on first use: no ``.mo`` files.

The command line takes its language from the environment, as gettext does: ``LANGUAGE``
(a list such as ``de:en``), else ``LC_ALL``, else ``LC_MESSAGES``, else ``LANG``
(``de_DE.UTF-8`` is German); ``C``, ``POSIX``, nothing set or a language without a catalogue
is English. Placeholders are ``{name}`` (``str.format``), filled in after translation::

    from commons.i18n import N_, _, print_error

    EXISTS = N_("{path} exists; give --force to replace it")   # marked, translated later
    print_error(_(EXISTS, path=output))                        # "error: …" / "Fehler: …"

Babel is imported only when a message is translated into a language other than English,
so that ``--help`` and English output stay fast. The gateway names the catalogue directory
(:func:`use_catalogues`); this package imports none of the domains or the gateway.

The API says the ``title`` and ``detail`` of its problem documents in the caller's language
too (``Accept-Language``, :func:`negotiate`, the same rule as the portal's pages). A message
with values that must be said later, in a language not known yet where it is made (an
error's detail), is a :class:`Deferred`: the English text, which also knows its ``msgid`` and
values, so that :func:`translate` can say it in another language::

    raise Conflict(Deferred(N_("the case {case} is closed"), case=case_id))
"""

from __future__ import annotations

import functools
import io
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog
    from babel.support import NullTranslations

DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
_LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
_catalogue_dir: Path | None = None


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown, with :func:`_`."""
    return message


# --------------------------------------------------------------------------- catalogues
def read_catalogue(path: Path, code: str) -> Catalog:
    """The catalogue of language ``code`` in the ``.po`` file ``path``."""
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return read_po(handle, locale=code.replace("-", "_"), domain=DOMAIN)


def compile_catalogue(catalog: Catalog) -> NullTranslations:
    """``catalog`` compiled in memory, ready for ``gettext``."""
    from babel.messages.mofile import write_mo
    from babel.support import Translations

    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def use_catalogues(directory: Path | None) -> None:
    """Translate from the catalogues in ``directory`` (``None``: English only); the same
    directory again keeps what was read of it."""
    global _catalogue_dir
    if directory == _catalogue_dir:
        return
    _catalogue_dir = directory
    _translations.cache_clear()
    _languages_in.cache_clear()


def available_languages(directory: Path | None = None) -> frozenset[str]:
    """The languages with a catalogue, and English, which needs none."""
    return _languages_in(directory or _catalogue_dir)


@functools.cache
def _languages_in(directory: Path | None) -> frozenset[str]:
    found = {SOURCE_LANGUAGE}
    if directory is not None:
        found |= {po.parts[-3] for po in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return frozenset(found)


def _language_of(value: str) -> str:
    """``de_DE.UTF-8@euro`` -> ``de``; ``C`` and ``POSIX`` -> ``""``."""
    code = value.split(".")[0].split("@")[0].strip()
    if code in ("C", "POSIX"):
        return ""
    return code.split("_")[0].split("-")[0].lower()


def cli_language(environ: Mapping[str, str] | None = None) -> str:
    """The language of the command line's messages, chosen as gettext chooses it."""
    environ = os.environ if environ is None else environ
    available = available_languages()
    locale = next((environ[v] for v in _LOCALE_VARIABLES if environ.get(v)), "")
    if _language_of(locale) == "" and locale:
        return SOURCE_LANGUAGE  # the C locale: gettext ignores LANGUAGE then, too
    wanted = [_language_of(part) for part in environ.get("LANGUAGE", "").split(":") if part]
    wanted.append(_language_of(locale))
    return next((code for code in wanted if code in available), SOURCE_LANGUAGE)


def negotiate(accept_language: str | None, default: str = SOURCE_LANGUAGE) -> str:
    """The language to answer in: the best of ``Accept-Language`` (RFC 9110 §12.5.4) that
    has a catalogue, matched by its tag or its primary subtag (``de-AT`` is ``de``), else
    ``default``. The portal's pages choose the same way (with German as their default)."""
    available = available_languages()
    for tag in ranked_languages(accept_language):
        for code in (tag, tag.split("-")[0]):
            if code in available:
                return code
    return default


def ranked_languages(header: str | None) -> list[str]:
    """The language tags of an ``Accept-Language`` header (lower case), best first; ``q=0``
    and malformed weights are dropped, and no more than 20 are read."""
    ranked: list[tuple[str, float]] = []
    for part in (header or "").split(",")[:20]:
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((tag.strip().lower(), quality))
    return [tag for tag, _q in sorted(ranked, key=lambda item: -item[1])]


def accept_language(language: str | None = None) -> str:
    """The ``Accept-Language`` the command line sends, so that the server's problem details
    come in its language (``language``, default :func:`cli_language`), English as fallback."""
    language = language or cli_language()
    return language if language == SOURCE_LANGUAGE else f"{language}, en;q=0.5"


@functools.cache
def _translations(language: str) -> NullTranslations | None:
    if _catalogue_dir is None or language == SOURCE_LANGUAGE:
        return None  # the msgids are the English text
    path = _catalogue_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return None
    return compile_catalogue(read_catalogue(path, language))


def _fill(text: str, original: str, values: dict[str, Any]) -> str:
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a broken translation: say it in English
        return original.format(**values)


class Deferred(str):
    """A message said later: the English text of ``msgid`` with ``values`` filled in (a
    ``str`` like any other, for logs, headers and tests), which :func:`translate` says in
    another language from its ``msgid``. A value that is a :class:`Deferred` too is
    translated with it."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Deferred:
        text = super().__new__(cls, _fill(msgid, msgid, values))
        text.msgid = msgid
        text.values = values
        return text

    def __reduce__(self) -> Any:  # pickling (an exception that carries one)
        return (_deferred, (self.msgid, self.values))


def _deferred(msgid: str, values: dict[str, Any]) -> Deferred:
    return Deferred(msgid, **values)


def translate(language: str, message: str, **values: Any) -> str:
    """``message`` in ``language`` (English if it has no catalogue or no translation of
    it), ``{name}`` placeholders filled in after translation. A :class:`Deferred` brings its
    own ``msgid`` and values."""
    if isinstance(message, Deferred):
        values = {**message.values, **values}
        message = message.msgid
    translations = _translations(language)
    if translations is None:
        return _fill(message, message, values)
    text = translations.gettext(message)
    said = {k: translate(language, v) if isinstance(v, Deferred) else v for k, v in values.items()}
    return _fill(text, message, said)


def _(message: str, **values: Any) -> str:
    """``message`` in the command line's language, ``{name}`` placeholders filled in."""
    return translate(cli_language(), message, **values)


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """The singular or plural form for ``n`` (available as ``{n}``), translated."""
    translations = _translations(cli_language())
    if translations is not None:
        text = translations.ngettext(singular, plural, n)
    else:
        text = singular if n == 1 else plural
    return _fill(text, singular if n == 1 else plural, {"n": n, **values})


def unfilled_gettext(message: str) -> str:
    """``message`` in the command line's language, its placeholders left for the caller to
    fill (Typer fills its own: ``gateway.cli_click``)."""
    translations = _translations(cli_language())
    return translations.gettext(message) if translations is not None else message


# --------------------------------------------------------------------------- output
def print_error(message: str, *, advice: str | None = None) -> None:
    """One error line on stderr (``error: …``, translated), then the advice on its own line.

    ``message`` is printed as it is (no console markup is interpreted in it), so that a
    server's or a file's text cannot restyle or hide anything."""
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, soft_wrap=True, highlight=False)
    console.print(Text.assemble((_("error:"), "bold red"), " ", message))
    if advice:
        console.print(Text(advice))


def print_warning(message: str) -> None:
    """One warning line on stderr (``warning: …``, translated)."""
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True, soft_wrap=True, highlight=False)
    console.print(Text.assemble((_("warning:"), "yellow"), " ", message))


def say(message: str) -> None:
    """A message (not a result) on stderr, so that stdout stays the command's output."""
    sys.stderr.write(message + "\n")
