"""The feedback page a student reads: a summary of what to fix at the top, and formulas that render with no network.

The page is one standalone HTML file (nbgrader's exchange hands students the .html file alone), so nothing can be
loaded beside it: formulas are written as MathML, which browsers render themselves (latex2mathml converts the TeX
of the markdown; anything it cannot read stays as TeX text). The page therefore runs no script at all
(grader.grading.csp). Student TeX reaches the page only as MathML cleaned by nh3: no links, no styles.
"""
from __future__ import annotations

import html
import re

import nh3
from jinja2 import pass_context
from latex2mathml.converter import convert
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

from grader.grading.preprocessors import first_error, heading, is_test
from grader.i18n import _

MATHML_TAGS = {"math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup",
               "msubsup", "mfrac", "msqrt", "mroot", "munder", "mover", "munderover", "mtable", "mtr", "mtd",
               "mstyle", "mpadded", "mphantom", "menclose", "merror"}
MATHML_ATTRIBUTES = {"display", "displaystyle", "scriptlevel", "mathvariant", "stretchy", "fence", "separator",
                     "lspace", "rspace", "minsize", "maxsize", "largeop", "movablelimits", "symmetric", "form",
                     "accent", "accentunder", "linethickness", "width", "height", "depth", "columnalign",
                     "rowspacing", "columnspacing", "notation", "encoding"}
TOC = re.compile(r'<div id="toc">.*?</div>', re.S)  # nbgrader's list: "Test cell (Score: …)" once per test
TOP = '<a name="top"></a>'  # where nbgrader's template starts the page's body


def mathml(tex: str, display: str = "inline") -> str:
    """``tex`` as clean MathML; as escaped TeX between dollars if latex2mathml cannot read it."""
    try:
        markup = convert(tex, display=display)
    except Exception:  # noqa: BLE001 - latex2mathml raises many kinds of error on TeX it does not know
        return html.escape(f"$${tex}$$" if display == "block" else f"${tex}$")
    return nh3.clean(markup, tags=MATHML_TAGS, attributes={"*": MATHML_ATTRIBUTES}, url_schemes=set())


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer with formulas as MathML instead of TeX for MathJax."""

    def inline_math(self, body: str) -> str:
        return mathml(body)

    def block_math(self, body: str) -> str:
        return mathml(body, "block")

    def latex_environment(self, name: str, body: str) -> str:
        return mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", "block")


class FeedbackExporter(HTMLExporter):
    """nbgrader's feedback export with formulas as MathML (nbgrader's feedback template, set by nbgrader)."""

    @pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        renderer = MathMLRenderer(escape=False, attachments=cell.get("attachments", {}),
                                  embed_images=self.embed_images,
                                  path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                                  anchor_link_text=self.anchor_link_text,
                                  exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)


def exercises(nb, cells: dict[str, tuple[float, float]]) -> list[tuple[str, str, str, float, float]]:
    """(grade_id, section, what to fix, score, points) per test cell of the graded notebook ``nb``, in order;
    what to fix: the first line of the cell's failure, empty when it passed."""
    rows, section = [], ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            section = heading(cell) or section
        elif is_test(cell) and cell.metadata.nbgrader.grade_id in cells:
            grade_id = cell.metadata.nbgrader.grade_id
            score, points = cells[grade_id]
            error = first_error(cell)
            said = (str(error.evalue).strip().splitlines() or [error.ename])[0] if error else ""
            fix = "" if score == points else said or _("This test did not pass: see its cell below.")
            rows.append((grade_id, section, fix, score, points))
    return rows


def summary(nb, cells: dict[str, tuple[float, float]]) -> str:
    """The table at the top of the page: one row per exercise, with its points and what to fix."""
    passed = _("Passed.")
    rows = "".join(
        f'<tr class="{"danger" if fix else "success"}"><td><a href="#{html.escape(grade_id)}"><code>'
        f"{html.escape(grade_id)}</code></a> {html.escape(section)}</td><td>{score:g} / {points:g}</td>"
        f"<td>{html.escape(fix or passed)}</td></tr>"
        for grade_id, section, fix, score, points in exercises(nb, cells))
    title, exercise, scored, what = _("Your exercises"), _("Exercise"), _("Points"), _("What to fix")
    return (f'<div id="summary"><h4>{html.escape(title)}</h4><table class="table table-condensed"><thead><tr>'
            f"<th>{html.escape(exercise)}</th><th>{html.escape(scored)}</th><th>{html.escape(what)}</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>")


def with_summary(page: str, nb, cells: dict[str, tuple[float, float]]) -> str:
    """nbgrader's feedback page with the summary in place of its list of test cells (at the top if it has none)."""
    table = summary(nb, cells)
    if TOC.search(page):
        return TOC.sub(lambda _: table, page, count=1)
    return page.replace(TOP, TOP + table, 1) if TOP in page else page.replace("<body>", "<body>" + table, 1)
