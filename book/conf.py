"""Sphinx configuration of the walkthrough (python -m grader book): MyST-NB renders the executed notebooks."""
import importlib.util
import shutil
from pathlib import Path

project = "Attention Lab"
author = "Attention Lab"
extensions = ["myst_nb"]
html_theme = "sphinx_book_theme"
html_title = "Attention Lab: the walkthrough"
html_theme_options = {"show_toc_level": 2, "home_page_in_toc": True}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "conf.py"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # the guides link to sections of each other ("security.md#limits"), as GitHub does
nb_execution_mode = "off"  # grader.delivery.book executes the notebooks and caches them by content
nb_output_stderr = "remove"  # kernel warnings are not teaching material
nb_merge_streams = True
nb_code_prompt_show = "Show the solution"  # the only folded cells are solutions (grader.delivery.book.FOLD)
nb_code_prompt_hide = "Hide the solution"
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]

# MathJax served with the book, so formulas render offline: the copy bundled by sphinx-mathjax-offline.
MATHJAX = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent / "static" / "mathjax"
mathjax_path = "mathjax/tex-chtml.js"


def copy_mathjax(app, exc):
    """Copy MathJax into the site once (24 MB: copying it on every build would cost seconds)."""
    target = Path(app.outdir) / "_static" / "mathjax"
    if exc is None and not (target / "tex-chtml.js").exists():
        shutil.copytree(MATHJAX, target, dirs_exist_ok=True)


def setup(app):
    app.connect("build-finished", copy_mathjax)
