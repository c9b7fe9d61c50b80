"""Sphinx configuration of the walkthrough (python -m grader book): MyST-NB renders the executed notebooks.

grader.delivery.book writes each language's sources (book/_build/sources/<language>/) and runs Sphinx on them with
this configuration (-c book), giving on the command line the language and the labels it translates (html_title, the
solutions' button).
"""
import importlib.util
import shutil
from pathlib import Path

BOOK = Path(__file__).resolve().parent
project = "Attention Lab"
author = "Attention Lab"
extensions = ["myst_nb"]
language = "en"  # the source; the Spanish site is built with -D language=es
html_theme = "sphinx_book_theme"
html_title = "Attention Lab: the walkthrough"
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["language-switch.css"]
html_theme_options = {"show_toc_level": 2, "home_page_in_toc": True,
                      "article_header_end": ["language-switch.html", "article-header-buttons.html"]}
exclude_patterns = ["_build", "_include", "**.ipynb_checkpoints", "conf.py"]  # _include: what index.md includes
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # the guides link to sections of each other ("security.md#limits"), as GitHub does
nb_execution_mode = "off"  # grader.delivery.book executes the notebooks and caches them by content
nb_output_stderr = "remove"  # kernel warnings are not teaching material
nb_merge_streams = True
nb_code_prompt_show = "Show the solution"  # the only folded cells are solutions (grader.delivery.book.FOLD)
nb_code_prompt_hide = "Hide the solution"
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]

# Sphinx's i18n translates the start page and the guides (not the notebook pages: each language's site has its own
# edition of the notebooks). One catalogue per page, without source locations, so that the committed catalogues
# change only when a text does; Sphinx compiles them (.mo, ignored by git) when it builds.
locale_dirs = [str(BOOK / "locales")]
gettext_compact = False
gettext_location = False
gettext_auto_build = True

# The language switch (_templates/language-switch.html): a plain link to the same page in the other language's site,
# its sibling folder (book/_build/html/<language>/), so that it works from file:// with nothing fetched.
LANGUAGES = {"en": "English", "es": "Español"}  # as grader.delivery.book.NAMES (tests/test_book.py holds both)

# MathJax served with the book, so formulas render offline: the copy bundled by sphinx-mathjax-offline.
MATHJAX = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent / "static" / "mathjax"
mathjax_path = "mathjax/tex-chtml.js"


def language_switch(app, pagename, templatename, context, doctree):
    """Give the page template the links to this page in the other languages: [(name, language, href)]."""
    up = "../" * (pagename.count("/") + 1)
    context["language_links"] = [(name, lang, f"{up}{lang}/{app.builder.get_target_uri(pagename)}")
                                 for lang, name in LANGUAGES.items() if lang != (app.config.language or "en")]


def copy_mathjax(app, exc):
    """Copy MathJax into the site once (24 MB: copying it on every build would cost seconds)."""
    target = Path(app.outdir) / "_static" / "mathjax"
    if exc is None and app.builder.format == "html" and not (target / "tex-chtml.js").exists():
        shutil.copytree(MATHJAX, target, dirs_exist_ok=True)


def setup(app):
    app.connect("html-page-context", language_switch)
    app.connect("build-finished", copy_mathjax)
