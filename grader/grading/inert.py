"""Student content made inert before it is stored in the autograded notebook, which the formgrader (on the
instructor's Jupyter origin) and the student's feedback page render as HTML.

What a student wrote or printed reaches those pages through markdown cells, raw cells, rich outputs and metadata
that nbconvert's templates copy into the page. :class:`Inert` runs in the coordinator (the trust boundary: a
worker's outcome could come from anywhere) and keeps only what renders without running anything:

- markdown (cells and ``text/markdown`` outputs): kept as written when nbconvert renders it to the same HTML with
  raw HTML escaped and harmful links refused, which is true of markdown and LaTeX with no HTML in it; otherwise
  replaced by the HTML nbconvert would render, cleaned by nh3 (see :func:`markdown_html`). Not shown as text:
  written answers keep their formulas, lists and emphasis, and the instructor grades what the student meant;
- ``text/html`` outputs: cleaned by nh3 (tables, text, links; no script, handler, style, form, frame or
  ``javascript:`` URL); ``image/svg+xml``: its drawing elements only; ``image/png`` / ``image/jpeg``: base64 only;
  ``text/plain``, ``text/latex``, streams and errors: kept (the templates escape them); any other kind (scripts,
  widgets) is replaced by a line of text saying it was removed;
- cell and notebook metadata: only what nbgrader and the templates need, with checked values.

The instructor's markdown (no raw HTML in this course) passes unchanged; so does everything honest students write.
"""
from __future__ import annotations

import html
import re

import nh3
import nbformat
from nbconvert.filters.markdown_mistune import InvalidNotebook, IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor
from nbformat.corpus.words import generate_corpus_id
from nbformat.v4 import new_output
from traitlets import Bool

SAFE_SCHEMES = {"http", "https", "mailto"}
HTML_TAGS = nh3.ALLOWED_TAGS - {"area", "map"}
HTML_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES, "table": {"border"}, "th": {"style", "colspan", "rowspan"},
                   "td": {"style", "colspan", "rowspan"}, "tr": {"style"}}
HTML_CLASSES = {"table": {"dataframe"}}  # pandas' table style in the templates; no other page class (no overlays)
SVG_TAGS = {"svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "defs",
            "clipPath", "use", "title", "desc"}
SVG_ATTRIBUTES = {"id", "d", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry", "dx", "dy", "width",
                  "height", "viewBox", "transform", "points", "clip-path", "href", "xlink:href", "style", "fill",
                  "stroke", "stroke-width", "opacity", "font-size", "font-family", "text-anchor", "version"}
SVG_STYLE = {"fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin",
             "stroke-dasharray", "stroke-dashoffset", "stroke-miterlimit", "opacity", "font", "font-family",
             "font-size", "font-weight", "font-style", "text-anchor", "clip-path"}
SVG_NAMESPACES = {"xmlns": "http://www.w3.org/2000/svg", "xmlns:xlink": "http://www.w3.org/1999/xlink"}
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
KEPT_CELL_METADATA = ("nbgrader", "deletable", "editable")
KEPT_NB_METADATA = ("kernelspec", "language_info", "attentionlab")
REMOVED = "[Output removed: {} can run code in a browser. Show results as text, tables or images.]\n"


def clean_html(markup: str) -> str:
    """``markup`` with only text, structure, tables, images and http(s)/mailto links left."""
    return nh3.clean(markup, tags=HTML_TAGS, attributes=HTML_ATTRIBUTES, allowed_classes=HTML_CLASSES,
                     url_schemes=SAFE_SCHEMES, filter_style_properties={"text-align"})


def _svg_link(tag: str, attribute: str, value: str) -> str | None:
    """In an SVG, links only to the figure's own parts (``#id``)."""
    return value if attribute not in ("href", "xlink:href") or value.startswith("#") else None


def clean_svg(svg: str) -> str:
    """``svg`` with its drawing elements and presentation attributes only (no script, handler, style sheet, link)."""
    return nh3.clean(svg, tags=SVG_TAGS, attributes={"*": SVG_ATTRIBUTES}, attribute_filter=_svg_link,
                     filter_style_properties=SVG_STYLE, set_tag_attribute_values={"svg": SVG_NAMESPACES},
                     url_schemes=set())


def _render(markdown: str, strict: bool, attachments: dict) -> str:
    """What nbconvert renders ``markdown`` to; ``strict``: with raw HTML escaped and harmful links refused."""
    renderer = IPythonRenderer(escape=strict, allow_harmful_protocols=not strict, attachments=attachments)
    return MarkdownWithMath(renderer=renderer).render(markdown)


def _block(markup: str) -> str:
    """``markup`` as one ``<div>`` line (line breaks as ``&#10;``), which markdown renderers pass on unchanged."""
    return "<div>" + markup.replace("\r", "").replace("\n", "&#10;") + "</div>"


def markdown_html(markdown: str, attachments: dict | None = None) -> str:
    """``markdown`` itself when it is safe as written, else its rendering cleaned by nh3 as one HTML block; as text
    if it shows an attached image the cell does not hold (nbconvert would fail on it)."""
    try:
        rendered = _render(markdown, False, attachments or {})
        if rendered == _render(markdown, True, attachments or {}):
            return markdown
    except InvalidNotebook:
        return _block(f"<pre>{html.escape(markdown)}</pre>")
    return _block(clean_html(rendered))


def _attachments(value) -> dict:
    """The images attached to a markdown cell (PNG, JPEG, GIF in base64), nothing else."""
    return {name: {mime: data for mime, data in kinds.items() if mime in ("image/png", "image/jpeg", "image/gif")
                   and isinstance(data, str) and BASE64.fullmatch(data)}
            for name, kinds in (value if isinstance(value, dict) else {}).items() if isinstance(kinds, dict)}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _image_metadata(metadata) -> dict:
    """Only numeric width/height per image type (the templates write them unquoted)."""
    kept = {}
    for mime in ("image/png", "image/jpeg"):
        sizes = metadata.get(mime) if isinstance(metadata, dict) else None
        sizes = {k: v for k, v in sizes.items() if k in ("width", "height") and _number(v)} if isinstance(
            sizes, dict) else {}
        if sizes:
            kept[mime] = sizes
    return kept


def _data(data: dict) -> dict:
    """The rich representations of an output that render without running anything, cleaned."""
    kept = {}
    for mime, value in data.items():
        text = "".join(map(str, value)) if isinstance(value, list) else value
        if not isinstance(text, str):
            continue
        if mime in ("text/plain", "text/latex"):
            kept[mime] = text
        elif mime == "text/html":
            kept[mime] = clean_html(text)
        elif mime == "text/markdown":
            kept[mime] = markdown_html(text)
        elif mime == "image/svg+xml":
            kept[mime] = clean_svg(text)
        elif mime in ("image/png", "image/jpeg") and BASE64.fullmatch(text):
            kept[mime] = text
    if not kept:
        kept["text/plain"] = REMOVED.format(", ".join(sorted(data)) or "(empty)")
    return kept


def _strings(value) -> str:
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


def clean_output(output) -> dict:
    """A new output holding only the inert parts of ``output``."""
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return new_output("stream", name=name, text=_strings(output.get("text", "")))
    if kind == "error":
        trace = output.get("traceback")
        return new_output("error", ename=str(output.get("ename", "")), evalue=str(output.get("evalue", "")),
                          traceback=[str(line) for line in trace] if isinstance(trace, list) else [])
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    if kind == "execute_result":
        count = output.get("execution_count")
        return new_output(kind, data=_data(data), metadata=_image_metadata(output.get("metadata")),
                          execution_count=count if isinstance(count, int) else None)
    if kind == "display_data":
        return new_output(kind, data=_data(data), metadata=_image_metadata(output.get("metadata")))
    return new_output("stream", name="stdout", text=REMOVED.format(kind))


def clean_cell(cell) -> None:
    """Make one cell inert in place."""
    cell.metadata = nbformat.NotebookNode({k: cell.metadata[k] for k in KEPT_CELL_METADATA if k in cell.metadata})
    if "id" in cell and not (isinstance(cell.id, str) and CELL_ID.fullmatch(cell.id)):
        cell.id = generate_corpus_id()
    source = _strings(cell.get("source", ""))
    if cell.cell_type == "markdown":
        cell.attachments = {k: v for k, v in _attachments(cell.get("attachments")).items() if v}
        cell.source = markdown_html(source, cell.attachments)
        if not cell.attachments:
            del cell["attachments"]
    elif cell.cell_type == "raw":
        cell.source = clean_html(source)
    elif cell.cell_type == "code":
        cell.outputs = [clean_output(o) for o in cell.get("outputs", []) if isinstance(o, dict)]
        if not isinstance(cell.get("execution_count"), int):
            cell.execution_count = None


def make_inert(nb):
    """``nb`` with every student-controlled part made inert."""
    for cell in nb.cells:
        clean_cell(cell)
    nb.metadata = nbformat.NotebookNode({k: nb.metadata[k] for k in KEPT_NB_METADATA if k in nb.metadata})
    return nb


class Inert(Preprocessor):
    """Autograde step after the execution (or its replay): the stored notebook carries nothing that runs. Also the
    first step of every HTML export (the formgrader's view, the feedback), for notebooks stored before it existed."""

    enabled = Bool(True, help="on wherever it is listed (nbgrader registers its steps without enabling them)")

    def preprocess(self, nb, resources):
        return make_inert(nb), resources
