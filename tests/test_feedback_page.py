"""The feedback page a student reads: what to fix at the top, formulas that render offline, no script."""
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.catalogue import mistakes, submissions
from grader.course import folder
from grader.grading import autograde
from grader.grading.feedback import mathml, summary, with_summary
from grader.grading.preprocessors import error_output


def test_formulas_become_mathml_and_unknown_tex_stays_text():
    assert mathml(r"\sqrt{d}").startswith('<math display="inline">')  # HTML's math element: no namespace needed
    assert "<msqrt>" in mathml(r"\sqrt{d}") and 'display="block"' in mathml("x^2", "block")
    assert mathml(r"<b> \sqrt") == r"$&lt;b&gt; \sqrt$"  # TeX latex2mathml cannot read, as escaped text


@pytest.mark.parametrize("tex", [r"\href{javascript:alert(1)}{x}", r"\style{background:url(http://x)}{y}",
                                 r"\class{modal}{z}", r"\text{<img src=x onerror=alert(1)>}"])
def test_a_students_tex_gives_no_link_style_or_markup(tex):
    markup = mathml(tex)
    assert not re.search(r"href|style|class|onerror|<img|javascript", markup), markup


def graded(*cells):
    """A graded notebook: markdown headings and test cells given as (grade_id, error message or None)."""
    nb = new_notebook()
    for cell in cells:
        if isinstance(cell, str):
            nb.cells.append(new_markdown_cell(cell))
            continue
        grade_id, error = cell
        code = new_code_cell("check()", metadata={"nbgrader": {"grade": True, "solution": False,
                                                               "grade_id": grade_id, "points": 2}})
        code.outputs = [error_output(error)] if error else []
        nb.cells.append(code)
    return nb


def test_the_summary_has_one_row_per_exercise_with_its_points_and_what_to_fix():
    nb = graded("## 1. Softmax", ("test_softmax", None), "## 2. Attention <i>now</i>",
                ("test_sdpa", "Divide the scores by √d.\nDetails below."), ("test_mask", None))
    table = summary(nb, {"test_softmax": (2, 2), "test_sdpa": (0, 2), "test_mask": (0, 2)})
    rows = re.findall(r"<tr class=\"(\w+)\">(.*?)</tr>", table)
    assert [r[0] for r in rows] == ["success", "danger", "danger"]
    assert "1. Softmax" in rows[0][1] and "<td>2 / 2</td><td>Passed.</td>" in rows[0][1]
    assert "2. Attention &lt;i&gt;now&lt;/i&gt;" in rows[1][1] and "<td>0 / 2</td><td>Divide the scores by √d.</td>" \
        in rows[1][1]  # the first line only, escaped
    assert "did not pass: see its cell below" in rows[2][1]  # lost its points with no message in its cell
    page = with_summary('<body><a name="top"></a><div id="toc"><ol><li>Test cell</li></ol></div></body>', nb,
                        {"test_softmax": (2, 2)})
    assert "Test cell" not in page and page.count('<tr class="success">') == 1


@pytest.mark.slow
def test_a_graded_pages_loads_nothing_and_says_what_to_fix_first(grading_dir):
    mistake = next(m for m in mistakes.MISTAKES if m.name == "no-scaling")
    submissions.submit(submissions.with_edits(mistake), mistake.assignment, "feedback-reader")
    result = autograde.grade(mistake.assignment, "feedback-reader")
    page = (folder("feedback") / "feedback-reader" / mistake.assignment / f"{mistake.assignment}.html").read_text()
    assert "<script" not in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "cdnjs" not in page and "<math" in page and "$\\sqrt{d}$" not in page
    top = page[page.index('id="summary"'):page.index('id="notebook"')]
    assert len(re.findall("<tr class=", top)) == len(result.cells)
    assert re.search(r"test_sdpa_values</code></a> [^<]+</td><td>0 / 2</td><td>[^<]*√d", top)
