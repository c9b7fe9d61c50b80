"""Student content is inert wherever it is shown: hostile markdown, outputs and notes come out of grader.grading.inert (and
the coordinator's recording) with nothing that runs in a browser, honest outputs are kept, and the pages carry a
Content-Security-Policy. No kernel: the worker's outcome is forged, as a hostile worker could."""
import base64
import json
import re
from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output, new_raw_cell

from grader import course
from grader.grading import autograde, csp, inert, sanitize
from grader.course import NOTEBOOKS, notebook_of
from grader.grading.preprocessors import Inert, ReplayExecute, autograde_preprocessors, is_test

NB1 = "01_attention_numpy"
# What a script would do on the instructor's origin: write a file through Jupyter's API, and leave a mark.
PWN = ("var t=(document.cookie.match(/_xsrf=([^;]+)/)||[])[1];fetch('/api/contents/pwned.txt',{method:'PUT',"
       "headers:{'X-XSRFToken':t,'Content-Type':'application/json'},body:JSON.stringify({type:'file',format:'text',"
       "content:'pwned'})});window.__pwned=1")
PAYLOADS = {
    "script": f"<script>{PWN}</script>",
    "img onerror": f'<img src=x onerror="{PWN}">',
    "svg onload": f'<svg onload="{PWN}"></svg>',
    "details ontoggle": f'<details open ontoggle="{PWN}"><summary>s</summary></details>',
    "javascript: href": f'<a href="javascript:{PWN}">click me</a>',
    "iframe": f'<iframe srcdoc="<script>parent.eval(name)</script>" name="{PWN}"></iframe>',
    "object/embed": '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    "style overlay": ('<style>body{visibility:hidden}</style><div style="position:fixed;top:0;left:0;width:100%;'
                      'height:100%;background:white">Session expired: log in again</div>'),
    "form": '<form action="/api/contents/pwned.txt" method="post"><input name="x"><button>Save</button></form>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "base": '<base href="https://evil.example/">',
    "markdown link": "[x](javascript:alert(1))",
}
HOSTILE_SVG = (f'<svg xmlns="http://www.w3.org/2000/svg" onload="{PWN}"><script>{PWN}</script>'
               '<a href="javascript:alert(1)"><rect width="10" height="10"/></a>'
               '<foreignObject><img src="x" onerror="alert(1)"/></foreignObject></svg>')
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()
TABLE = ('<div><style scoped>.dataframe tbody tr th {vertical-align: top;}</style><table border="1" '
         'class="dataframe"><thead><tr style="text-align: right;"><th></th><th>loss</th></tr></thead><tbody><tr>'
         '<th>0</th><td>0.25</td></tr></tbody></table></div>')
FORMULA = "The scale is $\\sqrt{d}$, and $a < b$ holds.\n\n$$\\mathrm{softmax}(QK^T/\\sqrt{d})V$$"
DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "form", "meta", "base", "style", "link", "frame", "applet",
                  "foreignobject"}


class Findings(HTMLParser):
    """Everything in a page that can run, navigate, send or cover the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in DANGEROUS_TAGS:
            self.found.append(f"<{tag} {sorted(attrs)}>")
        for name, value in attrs:
            url = "".join((value or "").split()).lower()
            if name.startswith("on") or url.startswith(("javascript:", "vbscript:", "data:text")) or (
                    name == "style" and "position" in url):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data):
        if self.lasttag == "script" and data.strip():
            self.found.append(f"script text {data.strip()[:60]!r}")


def findings(html: str) -> list[str]:
    parser = Findings()
    parser.feed(html)
    return sorted(parser.found)


def page(nb) -> str:
    """The notebook as nbconvert shows it (the formgrader's and the feedback's base template), untouched."""
    return HTMLExporter(template_name="classic").from_notebook_node(nb)[0]


TEMPLATE = findings(page(nbformat.v4.new_notebook()))  # the template's own scripts and styles


def hostile_notebook():
    """A notebook with every payload in a markdown cell, a raw cell, and text/html, text/markdown, image/svg+xml and
    script outputs, beside honest outputs."""
    everything = "\n\n".join(PAYLOADS.values())
    code = new_code_cell("show()", execution_count=1, outputs=[
        new_output("display_data", data={"text/html": everything, "text/plain": "<HTML>"}),
        new_output("display_data", data={"text/markdown": everything}),
        new_output("display_data", data={"image/svg+xml": HOSTILE_SVG}),
        new_output("display_data", data={"application/javascript": PWN}),
        new_output("display_data", data={"text/html": "<p>t</p>"}, metadata={"text/html": {"isolated": True}}),
        new_output("display_data", data={"image/png": 'x" onerror="alert(1)'},
                   metadata={"image/png": {"width": "1 onerror=alert(1)"}}),
        new_output("display_data", data={"image/png": PNG}, metadata={"image/png": {"width": 300}}),
        new_output("execute_result", data={"text/html": TABLE, "text/plain": "   loss\n0  0.25"}, execution_count=1),
        new_output("stream", name="stdout", text=f"printed {PAYLOADS['script']}\n"),
    ])
    nb = nbformat.v4.new_notebook(cells=[new_markdown_cell(everything), new_markdown_cell(FORMULA), code,
                                         new_raw_cell(everything)])
    nb.cells[0].metadata.tags = ['x"><script>alert(1)</script>']
    nb.metadata.widgets = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


@pytest.mark.parametrize("name", PAYLOADS)
def test_each_payload_runs_without_inert_and_not_with_it(name):
    nb = nbformat.v4.new_notebook(cells=[new_markdown_cell(PAYLOADS[name]), new_code_cell("x", outputs=[
        new_output("display_data", data={"text/html": PAYLOADS[name]}),
        new_output("display_data", data={"text/markdown": PAYLOADS[name]})])])
    assert findings(page(nb)) != TEMPLATE  # the payload is live in nbconvert's page
    assert findings(page(inert.make_inert(nb))) == TEMPLATE


def test_a_hostile_notebook_keeps_nothing_executable():
    nb = inert.make_inert(hostile_notebook())
    html = page(nb)
    assert findings(html) == TEMPLATE
    assert "<svg" not in html and 'data:image/svg+xml;base64,' in html  # the SVG is shown as an image
    svg = nb.cells[2].outputs[2].data["image/svg+xml"]
    assert "<rect" in svg and findings(svg) == []
    assert list(nb.cells[2].outputs[3].data) == ["text/plain"] and "widgets" not in nb.metadata
    assert nb.cells[2].outputs[3].data["text/plain"].startswith("[Output removed: application/javascript")


def test_honest_outputs_are_kept():
    nb = inert.make_inert(hostile_notebook())
    html = page(nb)
    assert nb.cells[1].source == FORMULA  # markdown with formulas and no HTML stays as written
    assert "$\\sqrt{d}$" in html and "$$\\mathrm{softmax}(QK^T/\\sqrt{d})V$$" in html
    assert f'src="data:image/png;base64,{PNG}" width="300"/>' in html
    assert '<table border="1" class="dataframe">' in html and "<th>loss</th>" in html and "<td>0.25</td>" in html
    assert "&lt;script&gt;" in html  # printed text is shown, escaped


def test_attached_images_are_kept_and_a_missing_one_is_shown_as_text():
    kept = new_markdown_cell("![plot](attachment:p.png)",
                             attachments={"p.png": {"image/png": PNG, "text/html": PAYLOADS["script"]}})
    nb = inert.make_inert(nbformat.v4.new_notebook(cells=[kept, new_markdown_cell("![x](attachment:gone.png)")]))
    html = page(nb)  # nbconvert fails on a missing attachment: shown as text instead
    assert findings(html) == TEMPLATE and f"data:image/png;base64,{PNG}" in html and "attachment:gone.png" in html


def test_markdown_with_html_keeps_its_text_and_formulas():
    cleaned = inert.markdown_html(f"A *written* answer: $\\sqrt{{d}}$ <b>bold</b> {PAYLOADS['img onerror']}\n")
    html = markdown2html_mistune(cleaned)
    assert findings(html) == [] and "<b>bold</b>" in html and "<em>written</em>" in html
    assert "$\\sqrt{d}$" in html


@pytest.fixture
def forged_submission(tmp_path):
    """Notebook 1 with a graded cell copied under a hostile grade_id, and a grade_id changed to one."""
    release = notebook_of(NB1, NOTEBOOKS)
    raw = json.loads(release.read_text())
    graded = [c for c in raw["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")]
    extra = json.loads(json.dumps(graded[0]))
    extra["metadata"]["nbgrader"]["grade_id"] = "x`<img src=x onerror=alert(1)>`"
    extra.pop("id", None)
    graded[1]["metadata"]["nbgrader"]["points"] = "<script>alert(2)</script>"
    raw["cells"].append(extra)
    path = tmp_path / release.name
    path.write_text(json.dumps(raw))
    return path


def test_a_forged_grade_id_in_the_notes_is_shown_as_text(forged_submission):
    nb, notes = sanitize.rebuild(forged_submission, notebook_of(NB1, NOTEBOOKS))
    cell = sanitize.with_notes(nb, notes).cells[0]
    html = markdown2html_mistune(cell.source)
    assert findings(html) == []
    assert "<code>x`&lt;img src=x onerror=alert(1)&gt;`</code>" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert inert.markdown_html(cell.source) == cell.source  # safe markdown: kept as written


def test_the_coordinator_makes_the_notebook_inert_after_replaying_it():
    steps = autograde_preprocessors(ReplayExecute)
    assert steps[steps.index(ReplayExecute) + 1] is Inert


def test_recording_a_forged_outcome_stores_and_shows_nothing_executable(grading_dir, forged_submission):
    """A worker's outcome whose notebook carries payloads (as a hostile worker could send it)."""
    nb, notes = sanitize.rebuild(forged_submission, notebook_of(NB1, NOTEBOOKS))
    nb = sanitize.with_notes(nb, notes)
    hostile = hostile_notebook()
    nb.cells += [hostile.cells[0], hostile.cells[2]]
    nb.cells[1].source += "\n\n" + PAYLOADS["svg onload"]  # an instructor cell, changed by the worker
    autograde.ensure_in_gradebook(NB1)
    verdicts = {c.metadata.nbgrader.grade_id: [True, ""] for c in nb.cells if is_test(c)}
    outcome = {"notebook": nbformat.writes(nb), "notes": notes, "mode": "sandboxed", "stopped": None,
               "verdicts": verdicts}
    result = autograde.record(NB1, "forger", outcome)
    assert not result.error, result.error
    stored = nbformat.read(autograde._autograded_notebook(NB1, "forger"), as_version=4)
    assert findings(page(stored)) == TEMPLATE
    feedback = course.folder("feedback") / "forger" / NB1 / f"{NB1}.html"
    html = feedback.read_text()
    assert {f.split()[0].strip("<") for f in findings(html)} == {"meta", "style"}  # no script, handler, frame, form
    assert "body{visibility:hidden}" not in html and "Session expired" in html  # the overlay's text, not its style
    metas = re.findall(r"<meta[^>]*>", html)
    assert len(metas) == 2 and 'http-equiv="Content-Security-Policy"' in metas[0] and html.index(metas[0]) < html.index(
        "<style")


def script_src(policy: str) -> list[str]:
    """The sources of a policy's script-src directive."""
    return next(d for d in policy.split(";") if d.split()[0] == "script-src").split()[1:]


def test_the_feedback_policy_allows_no_script_at_all():
    policy = csp.feedback_policy()
    assert "script-src" not in policy and policy.startswith("default-src 'none';")
    page_html = csp.protect_feedback("<html><head><title>t</title></head><body></body></html>")
    assert page_html.startswith(f'<html><head>\n<meta http-equiv="Content-Security-Policy" content="{policy}">')


def test_the_formgrader_policy_hashes_only_the_template_scripts():
    template = '<script>var a = 1;</script><span onclick="toggle(true);"></span><div id="notebook-container">'
    sources = script_src(csp.formgrader_policy(template + '<script>alert(1)</script><img onerror="alert(2)">',
                                               "http://h/formgrader/static/"))
    assert sorted(sources) == sorted(["http://h/formgrader/static/", csp.MATHJAX, "'unsafe-hashes'",
                                      csp.sha256("var a = 1;"), csp.sha256("toggle(true);")])
