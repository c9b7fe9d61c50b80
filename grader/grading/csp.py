"""Content-Security-Policies for the pages that show student content: the second wall behind grader.grading.inert.

Both forbid inline scripts other than the page template's own (allowed by their SHA-256), so markup that got past
the sanitiser runs nothing:

- the feedback page (a standalone file a student opens anywhere, offline too) carries its policy in a ``<meta>``
  tag and runs no script at all: its formulas are MathML (grader.grading.feedback), and nbgrader's template's
  MathJax (from a CDN) is taken out;
- the formgrader's submission view (the instructor's Jupyter origin) gets it as a header from :class:`SubmissionPolicy`,
  a server extension `make lab` loads (grader/jupyter_server_config.py), computed per page from the inline scripts
  and handlers of nbgrader's template (everything before the notebook), with the same MathJax configuration added.
  Scripts come only from the formgrader's static folder, not from the whole origin, which serves files students
  submitted. JupyterLab's own pages keep Jupyter's default policy: a strict one on every page (ServerApp's headers)
  refuses JupyterLab's inline script and an eval, and the inline scripts of the formgrader's other pages.
"""
from __future__ import annotations

import base64
import hashlib
import re

from tornado.web import OutputTransform

MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/"  # nbconvert's MathJax 2 loader and what it loads
MATHJAX_CONFIG = ('window.MathJax = {tex2jax: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], '
                  'displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]], processEscapes: true, processEnvironments: true}, '
                  'TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}}, displayAlign: "center", '
                  'messageStyle: "none"};')
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)
HANDLER = re.compile(r"""\son\w+\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
NOTEBOOK = 'id="notebook-container"'  # where nbgrader's templates start the notebook
TEMPLATE_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)  # nbconvert's
SUBMISSION = re.compile(r"/formgrader/submissions/[^/]+/?$")


def sha256(text: str) -> str:
    """A CSP hash source for ``text``."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def feedback_policy() -> str:
    """The feedback page's policy: no script, no request; inline styles and images only."""
    return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def with_mathjax_config(html: str) -> str:
    """``html`` with the MathJax configuration at the start of its ``<head>``."""
    return html.replace("<head>", f"<head>\n<script>{MATHJAX_CONFIG}</script>", 1)


def protect_feedback(html: str) -> str:
    """The feedback page with its policy first in its ``<head>``, without the template's MathJax."""
    html = TEMPLATE_MATHJAX.sub("", html, count=1)
    return html.replace("<head>", f'<head>\n<meta http-equiv="Content-Security-Policy" content="{feedback_policy()}">',
                        1)


def formgrader_policy(page: str, static: str) -> str:
    """The submission view's policy: scripts from ``static`` (the formgrader's folder), MathJax, and the template's
    inline scripts and handlers (those before the notebook), by hash."""
    template = page.split(NOTEBOOK, 1)[0]
    scripts = [m.group(1) for m in INLINE_SCRIPT.finditer(template)]
    handlers = [a or b for a, b in HANDLER.findall(template)]
    hashes = " ".join(sorted({sha256(text) for text in scripts + handlers}))
    return (f"default-src 'self'; script-src {static} {MATHJAX} 'unsafe-hashes' {hashes}; "
            f"style-src 'self' 'unsafe-inline' {MATHJAX}; font-src 'self' data: {MATHJAX}; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


class SubmissionPolicy(OutputTransform):
    """Adds :func:`formgrader_policy` to the formgrader's submission pages (a tornado output transform)."""

    def __init__(self, request):
        super().__init__(request)
        self.request = request

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        found = SUBMISSION.search(self.request.path)
        if found and headers.get("Content-Type", "").startswith("text/html"):
            page = chunk.decode("utf-8", "replace")
            if finishing:  # the whole page: room for the MathJax configuration
                page = with_mathjax_config(page)
                chunk = page.encode("utf-8")
                headers["Content-Length"] = str(len(chunk))
            prefix = self.request.path[:found.start()]  # the server's base URL
            static = f"{self.request.protocol}://{self.request.host}{prefix}/formgrader/static/"
            headers["Content-Security-Policy"] = formgrader_policy(page, static)
        return status_code, headers, chunk


def _jupyter_server_extension_points():
    return [{"module": "grader.grading.csp"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """First among the output transforms, so that it reads the page before any compression."""
    serverapp.web_app.transforms.insert(0, SubmissionPolicy)
