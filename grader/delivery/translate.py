"""The Spanish edition from one source: gettext catalogues of the notebooks and of the code, kept in step.

A notebook's messages are its markdown paragraphs and the strings a student reads in its code cells (assert
messages, print() arguments, the message arguments of checks.*, title=/label= keywords), outside solution regions.
A translated notebook has the same cells, ids and code; only those texts differ. The package's and the grader's
messages are marked ``_()``/``N_()`` and extracted by Babel.
"""
from __future__ import annotations

import ast
import copy
import datetime
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from attentionlab.i18n import LANGUAGES, Messages
from grader.course import ROOT, SOLUTIONS, SOURCES, assignments, edition, notebook_of
from grader.i18n import LOCALE

TARGETS = LANGUAGES[1:]  # the languages translated into
SOURCE_DATE = datetime.datetime(2026, 12, 7, tzinfo=datetime.timezone.utc)  # catalogues' dates: stable diffs
PACKAGE = ROOT / "attentionlab"
DOMAINS = {  # Python domains: where their catalogue is, which sources feed it
    "attentionlab": (PACKAGE / "locale", sorted(p for p in PACKAGE.glob("*.py") if p.name != "i18n.py")),
    "checks": (LOCALE, sorted(p for p in (ROOT / "grader").rglob("*.py") if p.name != "i18n.py")),
}
KEYWORDS = {"_": None, "N_": None}
READ_KEYWORDS = {"title", "label", "xlabel", "ylabel", "hint", "message"}  # keyword arguments a student reads
SOLUTION = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.S)
FORMULA = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)
CODE_SPAN = re.compile(r"`[^`\n]+`")
PLACEHOLDER = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})")
WORDS = re.compile(r"[A-Za-z]{2,}.*\s|\s.*[A-Za-z]{2,}")  # prose: a word and a space, not a name or "abcd"


# ---- markdown --------------------------------------------------------------------------------------------------

def blocks(markdown: str) -> list[str]:
    """The text split into paragraphs and the blank lines between them (``` fences and $$ formulas kept whole)."""
    parts, current, fence, formula = [], [], False, False
    for line in markdown.split("\n"):
        if not (line.strip() or fence or formula):
            parts += ["\n".join(current), ""] if current else [""]
            current = []
            continue
        current.append(line)
        fence ^= line.lstrip().startswith("```")
        formula ^= (not fence) and line.count("$$") % 2 == 1
    return parts + ["\n".join(current)] if current else parts


def paragraphs(markdown: str) -> list[str]:
    """The translatable paragraphs of a markdown cell."""
    return [part for part in blocks(markdown) if part.strip()]


def translate_markdown(markdown: str, gettext) -> str:
    """``markdown`` with each paragraph translated; the blank lines between them kept."""
    return "\n".join(gettext(part) if part.strip() else part for part in blocks(markdown))


# ---- strings in code cells ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    """A string literal a student reads (implicit concatenation joined): where it is, and its raw text."""

    start: int  # offsets in the cell's source
    end: int
    text: str  # the source between the quotes, pieces joined: escapes and {fields} as written
    prefix: str  # "f" or ""
    quote: str
    multiline: bool  # the original spans lines, so it sits inside brackets and may again


def _slots(tree: ast.AST):
    """The expressions a student reads: assert messages, print/raise/checks.* arguments, title=/label= keywords, the
    messages of checks.close's ``mistakes``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            yield node.msg
        elif isinstance(node, ast.Call):
            func = node.func
            named = func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            if named == "print" or owner == "checks" or named.endswith(("Error", "Exception")):
                yield from node.args
            yield from (kw.value for kw in node.keywords if kw.arg in READ_KEYWORDS)
            yield from (key for kw in node.keywords if kw.arg == "mistakes" and isinstance(kw.value, ast.Dict)
                        for key in kw.value.keys)  # checks.close(..., mistakes={message: wrong values})


def _strings(expr: ast.AST):
    """String literals in ``expr``, not descending into f-strings' fields nor into subscripts (keys are data)."""
    if isinstance(expr, ast.JoinedStr) or (isinstance(expr, ast.Constant) and isinstance(expr.value, str)):
        yield expr
        return
    for child in ast.iter_child_nodes(expr):
        if isinstance(expr, ast.Subscript) and child is expr.slice:
            continue
        yield from _strings(child)


def _offsets(source: str) -> list[int]:
    """Offset of the start of each line (1-based line numbers index it from 1)."""
    starts, total = [0, 0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _literal(source: str, node: ast.AST, lines: list[int]) -> Literal:
    """The Literal of one string node."""
    start = lines[node.lineno] + len(source.splitlines(keepends=True)[node.lineno - 1].encode()[:node.col_offset]
                                     .decode())
    end_line = source.splitlines(keepends=True)[node.end_lineno - 1]
    end = lines[node.end_lineno] + len(end_line.encode()[:node.end_col_offset].decode())
    pieces = [tok.string for tok in tokenize.generate_tokens(io.StringIO(source[start:end]).readline)
              if tok.type == tokenize.STRING]
    prefixes, texts, quote = "", [], '"'
    for piece in pieces:
        head = re.match(r"[A-Za-z]*", piece).group(0)
        quote = piece[len(head):len(head) + 3] if piece[len(head):].startswith(('"""', "'''")) else piece[len(head)]
        prefixes += head.lower()
        texts.append(piece[len(head) + len(quote):-len(quote)])
    return Literal(start, end, "".join(texts), "f" if "f" in prefixes else "", quote, node.lineno != node.end_lineno)


def literals(source: str) -> list[Literal]:
    """The strings a student reads in a code cell, outside its solution regions, in source order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    hidden = [match.span() for match in SOLUTION.finditer(source)]
    lines, found = _offsets(source), {}
    for slot in _slots(tree):
        for node in _strings(slot):
            literal = _literal(source, node, lines)
            inside = any(a <= literal.start < b for a, b in hidden)
            if not inside and WORDS.search(literal.text.replace("\\n", "\n")) and "r" not in literal.prefix:
                found[literal.start] = literal
    return [found[key] for key in sorted(found)]


def _chunks(text: str, width: int) -> list[str]:
    """``text`` cut at spaces into pieces of about ``width`` characters, never inside a {field}."""
    pieces, current, depth = [], "", 0
    for word in re.split(r"(?<= )", text):
        if current and len(current) + len(word) > width and depth == 0:
            pieces.append(current)
            current = ""
        current += word
        depth += word.count("{") - word.count("}")
    return pieces + [current] if current else pieces


def rewrite(source: str, literal: Literal, text: str) -> str:
    """``source`` with ``literal`` replaced by ``text`` (raw source text, same prefix and quotes)."""
    escaped = re.sub(rf"(?<!\\){re.escape(literal.quote)}", "\\" + literal.quote, text) if len(literal.quote) == 1 \
        else text
    if not literal.multiline:
        return source[:literal.start] + f"{literal.prefix}{literal.quote}{escaped}{literal.quote}" + source[literal.end:]
    column = literal.start - source.rfind("\n", 0, literal.start) - 1
    pieces = _chunks(escaped, max(40, 116 - column))
    joined = ("\n" + " " * column).join(
        f"{literal.prefix}{literal.quote}{piece}{literal.quote}" for piece in pieces)
    return source[:literal.start] + joined + source[literal.end:]


def translate_code(source: str, gettext) -> str:
    """A code cell with each string a student reads translated (last first, so offsets hold)."""
    for literal in reversed(literals(source)):
        text = gettext(literal.text)
        if text != literal.text:
            source = rewrite(source, literal, text)
    return source


# ---- notebooks and catalogues -------------------------------------------------------------------------------------

def notebook_messages(nb) -> list[tuple[str, str, str]]:
    """(message, cell id, kind) for every message of a notebook, in reading order."""
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found += [(part, cell.id, "markdown") for part in paragraphs(cell.source)]
        elif cell.cell_type == "code":
            found += [(literal.text, cell.id, "code") for literal in literals(cell.source)]
    return found


def notebook_catalogue(assignment: str, nb=None) -> Catalog:
    """The template of an assignment's messages, each with its cell id as location."""
    nb = nb or nbformat.read(notebook_of(assignment), as_version=4)
    catalog = Catalog(project=assignment, domain=assignment)
    for number, (message, cell_id, kind) in enumerate(notebook_messages(nb), 1):
        catalog.add(message, locations=[(cell_id, number)], auto_comments=[kind],
                    flags=["python-brace-format"] if kind == "code" and PLACEHOLDER.search(message) else [])
    return catalog


def code_catalogue(domain: str) -> Catalog:
    """The template of a Python domain: every ``_()``/``N_()`` message of its sources."""
    _locale, sources = DOMAINS[domain]
    catalog = Catalog(project=domain, domain=domain)
    for path in sources:
        for lineno, message, comments, _context in extract_from_file("python", str(path), keywords=KEYWORDS,
                                                                     comment_tags=("TRANSLATORS:",)):
            catalog.add(message, locations=[(path.relative_to(ROOT).as_posix(), lineno)], auto_comments=comments)
    return catalog


def templates() -> dict[str, tuple[Catalog, Path]]:
    """domain -> (its template, the folder of its catalogues), for every notebook and Python domain."""
    found = {a: (notebook_catalogue(a), LOCALE) for a in assignments()}
    found.update({d: (code_catalogue(d), DOMAINS[d][0]) for d in DOMAINS})
    return found


def po_path(domain: str, lang: str, locale: Path) -> Path:
    return Messages(domain, locale).po(lang)


def read(path: Path) -> Catalog | None:
    """A catalogue, or None if there is none yet."""
    if not path.is_file():
        return None
    with path.open("rb") as file:
        return read_po(file)


def write(catalog: Catalog, path: Path) -> None:
    """Write a catalogue the way every catalogue of the course is written (stable diffs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=79, sort_output=False, ignore_obsolete=True, include_previous=True)
    path.write_bytes(buffer.getvalue())


def update(lang: str = "es") -> list[Path]:
    """Merge every template into its catalogue of ``lang``: new messages empty, changed ones fuzzy."""
    written = []
    for domain, (template, locale) in templates().items():
        path = po_path(domain, lang, locale)
        catalog = read(path) or Catalog(locale=lang, domain=domain, project=domain, fuzzy=False,
                                        creation_date=SOURCE_DATE, revision_date=SOURCE_DATE)
        catalog.update(template, update_header_comment=False, update_creation_date=False)
        write(catalog, path)
        written.append(path)
    return written


# ---- checks -----------------------------------------------------------------------------------------------------

def _kept(pattern: re.Pattern, source: str, translation: str) -> bool:
    return sorted(pattern.findall(source)) == sorted(pattern.findall(translation))


def _structure(text: str) -> list[str]:
    """The markdown skeleton of a paragraph: heading marks, list marks, table pipes per line."""
    marks = []
    for line in prose(text).split("\n"):  # a | inside $|V|$ or `a | b` is no table
        head = re.match(r"\s*(#+ |[-*] |\d+\. |>)?", line).group(1) or ""
        marks.append(head.strip() + "|" * line.count("|"))
    return [mark for mark in marks if mark]  # prose may wrap differently


def problems(message, domain: str) -> list[str]:
    """What is wrong with one translated message (empty if nothing)."""
    where = f"{domain}: {message.id[:60]!r}"
    if not message.string:
        return [f"{where}: not translated"]
    if message.fuzzy:
        return [f"{where}: fuzzy (check it, then remove the fuzzy flag)"]
    found = []
    for name, pattern in [("placeholder", PLACEHOLDER), ("formula", FORMULA), ("code span", CODE_SPAN)]:
        if not _kept(pattern, message.id, message.string):
            found.append(f"{where}: a {name} of the source is missing or added")
    if _structure(message.id) != _structure(message.string):
        found.append(f"{where}: its markdown structure (headings, lists, table) differs from the source")
    return found


def prose(text: str) -> str:
    """``text`` without its formulas, code spans and fields: what a glossary check reads."""
    for pattern in (FORMULA, CODE_SPAN, PLACEHOLDER):
        text = pattern.sub(" ", text)
    return text


def glossary(lang: str = "es") -> list[tuple[str, str, list[str]]]:
    """(English term, the translation, words to avoid) from locale/<lang>/glossary.csv."""
    import csv

    with (LOCALE / lang / "glossary.csv").open(encoding="utf-8") as file:
        return [(row["english"], row["spanish"], [w for w in row["avoid"].split("|") if w])
                for row in csv.DictReader(file)]


def check(lang: str = "es") -> list[str]:
    """Every problem of the catalogues of ``lang``: stale, untranslated, fuzzy, changed placeholders, avoided words."""
    avoid = [(word, english) for english, _spanish, words in glossary(lang) for word in words]
    found = []
    for domain, (template, locale) in templates().items():
        catalog = read(po_path(domain, lang, locale))
        if catalog is None:
            found.append(f"{domain}: no catalogue (run: python -m grader translate update)")
            continue
        stale = {m.id for m in template if m.id} ^ {m.id for m in catalog if m.id}
        found += [f"{domain}: stale against the source ({len(stale)} messages differ; run: python -m grader "
                  f"translate update)"] if stale else []
        for message in catalog:
            if message.id:
                found += problems(message, domain)
                found += [f"{domain}: {message.id[:60]!r}: uses {word!r}; the glossary says {english!r} is not "
                          "translated so" for word, english in avoid
                          if re.search(rf"\b{re.escape(word)}\b", prose(message.string), re.I)]
    return found


# ---- editions ---------------------------------------------------------------------------------------------------

def gettext_of(assignment: str, lang: str):
    """The translation function of an assignment's catalogue (identity for the source language)."""
    if lang == LANGUAGES[0]:
        return lambda text: text
    return Messages(assignment, LOCALE).translations_of(lang).gettext


def translated(nb, assignment: str, lang: str):
    """A copy of notebook ``nb`` in ``lang``: markdown and student-read strings translated, outputs untouched."""
    gettext = gettext_of(assignment, lang)
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = translate_markdown(cell.source, gettext)
        elif cell.cell_type == "code":
            cell.source = translate_code(cell.source, gettext)
    nb.metadata["language"] = lang  # what the grader and the self-check read too (attentionlab.i18n.language_of)
    return nb


def source_notebook(assignment: str, lang: str) -> nbformat.NotebookNode:
    """The instructor notebook of an assignment in ``lang``."""
    return translated(nbformat.read(notebook_of(assignment, SOLUTIONS), as_version=4), assignment, lang)


def write_sources() -> list[Path]:
    """nbgrader's source folder: each assignment of solutions/ linked, each translated edition written from it."""
    written = []
    for assignment in assignments():
        link = SOURCES / assignment
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(Path("..") / ".." / SOLUTIONS.relative_to(ROOT) / assignment, target_is_directory=True)
        for lang in TARGETS:
            name = edition(assignment, lang)
            path = SOURCES / name / f"{name}.ipynb"
            text = nbformat.writes(source_notebook(assignment, lang)) + "\n"
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
