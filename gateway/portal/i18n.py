"""Languages of the portal: gettext message catalogues (Babel), negotiation, text direction.

- Every UI string is an English ``msgid`` in the templates and code; the catalogues live in
  ``gateway/portal/locales/<lang>/LC_MESSAGES/messages.po`` (template: ``messages.pot``).
- A language is available when its ``.po`` file exists: adding Arabic, Ukrainian or Turkish
  is a data change (``pybabel init -l ar``, translate, restart). The ``.po`` files are the
  source of truth; they are compiled in memory at start-up (no ``.mo`` files to keep in step).
- Text direction comes from the CLDR data of the language (Babel's ``character_order``), so
  an Arabic catalogue renders right to left without code changes.
- ``ar-XB`` is a pseudo locale generated from the English catalogue (every string mirrored
  with the Unicode RIGHT-TO-LEFT OVERRIDE and bracketed) to test the right-to-left layout;
  offered outside production only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.support import NullTranslations

from commons.i18n import DOMAIN, compile_catalogue, ranked_languages, read_catalogue
from gateway.portal import LOCALES_DIR as LOCALES_DIR

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DEFAULT_LANGUAGE = "de"
PSEUDO_RTL = "ar-XB"
LANGUAGE_COOKIE = "ozg_lang"

_current: ContextVar[NullTranslations] = ContextVar("portal_translations")


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # BCP 47, as in <html lang>
    name: str  # its own name (endonym), for the language switch
    direction: str  # "ltr" or "rtl"
    translations: NullTranslations


def _direction(code: str) -> str:
    try:
        locale = Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return "ltr"
    return "rtl" if locale.character_order == "right-to-left" else "ltr"


def _endonym(code: str) -> str:
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name()
    except (UnknownLocaleError, ValueError):
        name = None
    return (name or code)[:1].upper() + (name or code)[1:]


def pseudo_rtl(text: str) -> str:
    """The pseudo-RTL form of an English string: mirrored (RLO ... PDF) and bracketed, so
    that untranslated or truncated strings stand out."""
    return f"[\u202e{text}\u202c]"


def _pseudo_catalog(source: Catalog) -> Catalog:
    pseudo = Catalog(locale="ar", domain=DOMAIN)
    for message in source:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            pseudo.add((singular, plural), (pseudo_rtl(singular), pseudo_rtl(plural)))
        else:
            pseudo.add(message.id, pseudo_rtl(str(message.id)))
    return pseudo


class Catalogues:
    """The available languages, in display order (German first)."""

    def __init__(self, languages: Iterable[Language]) -> None:
        self.languages: Mapping[str, Language] = MappingProxyType(
            {lang.code: lang for lang in languages}
        )

    @classmethod
    def load(cls, *, pseudo: bool, directory: Path = LOCALES_DIR) -> Catalogues:
        """The catalogues in ``directory``, parsed and compiled once per process for the same
        files (path, size and modification time): every app a process creates (each test's,
        each worker's) shares them, read-only; a changed or added ``.po`` file is read anew."""
        files = tuple(
            (po, po.stat().st_mtime_ns, po.stat().st_size)
            for po in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        )
        return cls._load(files, pseudo)

    @classmethod
    @functools.lru_cache(maxsize=16)
    def _load(cls, files: tuple[tuple[Path, int, int], ...], pseudo: bool) -> Catalogues:
        found: list[Language] = []
        english: Catalog | None = None
        for po, _mtime, _size in files:
            code = po.parts[-3].replace("_", "-")
            catalog = read_catalogue(po, code)
            if code == "en":
                english = catalog
            found.append(
                Language(code, _endonym(code), _direction(code), compile_catalogue(catalog))
            )
        found.sort(key=lambda lang: (lang.code != DEFAULT_LANGUAGE, lang.code))
        if pseudo and english is not None:
            found.append(
                Language(
                    PSEUDO_RTL,
                    "Pseudo-RTL (ar-XB)",
                    "rtl",
                    compile_catalogue(_pseudo_catalog(english)),
                )
            )
        if not any(lang.code == DEFAULT_LANGUAGE for lang in found):
            raise RuntimeError(f"the portal's {DEFAULT_LANGUAGE} catalogue is missing")
        return cls(found)

    def get(self, code: str | None) -> Language | None:
        return self.languages.get(code or "")

    def negotiate(self, cookie: str | None, accept_language: str | None) -> Language:
        """The cookie's choice, else the best of ``Accept-Language``, else German (the
        header read as the API reads it: ``commons.i18n.ranked_languages``)."""
        chosen = self.get(cookie)
        if chosen is not None:
            return chosen
        for tag in ranked_languages(accept_language):
            for code, lang in self.languages.items():
                if code == PSEUDO_RTL:
                    continue
                if tag == code.lower() or tag.split("-")[0] == code.lower():
                    return lang
        return self.languages[DEFAULT_LANGUAGE]


# --------------------------------------------------------------------------- templates
def use(language: Language) -> None:
    """Make ``language`` the one ``gettext`` (and the templates' ``_``) translate into."""
    _current.set(language.translations)


def gettext(message: str, **variables: Any) -> str:
    text = _current.get(NullTranslations()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = _current.get(NullTranslations()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def template_environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # New-style gettext: Jinja substitutes the variables (escaped) after translation.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: _current.get(NullTranslations()).gettext(message),
        lambda singular, plural, n: _current.get(NullTranslations()).ngettext(singular, plural, n),
        newstyle=True,
    )
    return env
