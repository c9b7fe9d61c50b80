"""The course's two languages: which one a kernel or a grading run speaks, and its translated messages.

Messages are gettext catalogues (``locale/es/LC_MESSAGES/<domain>.po``), read with Babel and compiled in memory, so
no compiled file can be stale. A message with fields is a ``str.format`` template: ``_("{name} is wrong.", name=x)``.
"""
from __future__ import annotations

import contextlib
import contextvars
import gettext
import io
import os
import re
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "es")  # the source language first
ENV = "ATTENTIONLAB_LANG"  # set by the grader and the self-check for the edition they run
LOCALE = Path(__file__).with_name("locale")
EDITION = re.compile(r"_(es)(?![a-z])")  # 01_attention_numpy_es, its folder, its "-Copy1" or "Copy of" copies
_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("attentionlab_language", default=None)


def language_of(name: str) -> str:
    """The language of an assignment, a notebook or a folder, from its name (``_es``: Spanish)."""
    found = EDITION.search(Path(name).name)
    return found.group(1) if found else LANGUAGES[0]


def language() -> str:
    """The language in use: set by :func:`use`, else ``$ATTENTIONLAB_LANG``, else the notebook's or folder's name."""
    chosen = _chosen.get() or os.environ.get(ENV)
    if chosen in LANGUAGES:
        return chosen
    # Jupyter starts a notebook's kernel in the notebook's folder and names the notebook in JPY_SESSION_NAME.
    return language_of(os.environ.get("JPY_SESSION_NAME") or os.getcwd())


@contextlib.contextmanager
def use(lang: str):
    """Speak ``lang`` inside the block (the grader, while it judges one submission)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    token = _chosen.set(lang)
    try:
        yield
    finally:
        _chosen.reset(token)


@lru_cache(maxsize=None)
def translations(po: Path) -> gettext.NullTranslations:
    """The catalogue ``po`` compiled in memory, fuzzy entries left out (NullTranslations if there is none)."""
    from babel.messages import mofile, pofile

    if not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as file:
        catalog = pofile.read_po(file)
    compiled = io.BytesIO()
    mofile.write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


class Messages:
    """The messages of one gettext domain, in the language in use."""

    def __init__(self, domain: str, locale: Path = LOCALE):
        self.domain, self.locale = domain, Path(locale)

    def po(self, lang: str) -> Path:
        """Where the catalogue of ``lang`` is."""
        return self.locale / lang / "LC_MESSAGES" / f"{self.domain}.po"

    def translations_of(self, lang: str) -> gettext.NullTranslations:
        """The compiled catalogue of ``lang``."""
        return translations(self.po(lang))

    def __call__(self, message: str, **fields) -> str:
        """``message`` in the language in use; with ``fields``, its template filled in."""
        lang = language()
        text = message if lang == LANGUAGES[0] else self.translations_of(lang).gettext(message)
        return text.format(**fields) if fields else text


def N_(message: str) -> str:
    """Mark a constant for extraction, untranslated: translate it with ``_(CONSTANT)`` where it is shown."""
    return message


_ = Messages("attentionlab")  # the package's own messages: checks, plots, printed reports
