"""The Spanish edition stays in step with its one source: catalogues complete and current, translations that keep
every placeholder, formula and code span, Spanish notebooks with the English one's cells, ids, points and code."""
import ast

import nbformat
import pytest
from babel.messages.catalog import Message

from attentionlab import i18n
from grader.course import NOTEBOOKS, SOLUTIONS, assignments, edition, editions, language, notebook_of
from grader.delivery import translate


def code_shape(source: str) -> str:
    """The syntax tree of a cell with every string emptied: what must not differ between editions."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            node.values = []
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def grading(cell) -> dict:
    """A cell's nbgrader metadata but its checksum (of its source, which differs by language)."""
    return {k: v for k, v in cell.metadata.get("nbgrader", {}).items() if k != "checksum"}


def cells_of(assignment: str, folder=SOLUTIONS):
    return nbformat.read(notebook_of(assignment, folder), as_version=4).cells


def longer(text: str) -> str:
    """A 'translation' that is longer, quoted and accented: what rewriting must survive."""
    return f'«{text}» "con comillas" y una cola de palabras bastante larga para que la línea se corte en piezas'


@pytest.mark.parametrize("assignment", assignments())
def test_markdown_and_code_come_back_unchanged_without_translations(assignment):
    for cell in cells_of(assignment):
        same = translate.translate_markdown if cell.cell_type == "markdown" else translate.translate_code
        assert same(cell.source, lambda text: text) == cell.source, cell.id


@pytest.mark.parametrize("assignment", assignments())
def test_translated_code_differs_only_in_its_strings(assignment):
    for cell in cells_of(assignment):
        if cell.cell_type == "code":
            assert code_shape(translate.translate_code(cell.source, longer)) == code_shape(cell.source), cell.id


def test_only_the_strings_a_student_reads_are_messages():
    source = '''example = "my father died ten years ago ."
assert ok, "Write two different sentences."
print(f"{name}: validation loss {loss:.2f} after training")
print(results["no attention"]["signature"], "labels:\\n", labels)
checks.one_letter(answer, "abcd", "answer_q1")
checks.close(a, b, "dot weights on padding", "Padded positions get zero weight (section 2).",
             mistakes={"The scores are not scaled.": c})
plots.heatmap(w, title=f"{name}, trained")
### BEGIN SOLUTION
print("the solution prints this")
### END SOLUTION
raise ValueError(f"unknown score {score!r}: use 'dot' or 'general'")
'''
    found = [literal.text for literal in translate.literals(source)]
    assert found == ["Write two different sentences.", "{name}: validation loss {loss:.2f} after training",
                     "labels:\\n",
                     "dot weights on padding", "Padded positions get zero weight (section 2).",
                     "The scores are not scaled.", "{name}, trained",
                     "unknown score {score!r}: use 'dot' or 'general'"]


def test_a_paragraph_never_splits_a_code_block_or_a_formula():
    text = "# Title\n\nOne\nparagraph.\n\n$$a\n\nb$$\n\n```python\nx = 1\n\ny = 2\n```\n\n\nEnd."
    assert translate.paragraphs(text) == ["# Title", "One\nparagraph.", "$$a\n\nb$$", "```python\nx = 1\n\ny = 2\n```",
                                          "End."]
    assert translate.translate_markdown(text, str.upper).startswith("# TITLE\n\nONE\nPARAGRAPH.\n\n$$A")


@pytest.mark.parametrize("source, translation, problem", [
    ("{name} has shape {actual}.", "{name} tiene forma.", "placeholder"),
    ("The score $e = q \\cdot k$.", "La puntuación $e = q k$.", "formula"),
    ("Call `softmax(x)` here.", "Llama a softmax(x) aquí.", "code span"),
    ("# Heading\n- one\n- two", "# Título\n- uno dos", "structure"),
    ("Some text.", "", "not translated"),
])
def test_a_translation_that_loses_something_is_a_problem(source, translation, problem):
    found = translate.problems(Message(source, translation), "nb")
    assert found and problem in found[0], found
    assert not translate.problems(Message(source, source), "nb")


def test_a_fuzzy_translation_is_a_problem():
    assert "fuzzy" in translate.problems(Message("Text.", "Texto.", flags=["fuzzy"]), "nb")[0]


def test_a_stale_catalogue_and_an_avoided_word_are_reported(monkeypatch):
    real = translate.templates

    def templates():
        found = real()
        found["01_attention_numpy"][0].add("A sentence the catalogue has never seen.")
        return found

    monkeypatch.setattr(translate, "templates", templates)
    assert any("01_attention_numpy: stale" in line for line in translate.check())
    english, spanish, avoid = next(row for row in translate.glossary() if row[2])
    assert avoid[0] not in translate.prose(f"`{avoid[0]}` {{{avoid[0]}}}")  # code and fields are not prose


def test_every_catalogue_is_complete_and_in_step_with_its_source():
    assert translate.check() == [], "run: python -m grader translate update, then translate what it lists"


@pytest.mark.parametrize("assignment", assignments())
def test_the_spanish_notebook_is_the_english_one_with_its_text_translated(assignment):
    english, spanish = cells_of(assignment, NOTEBOOKS), cells_of(edition(assignment, "es"), NOTEBOOKS)
    assert [(c.id, c.cell_type, grading(c)) for c in english] == [(c.id, c.cell_type, grading(c)) for c in spanish]
    for en, es in zip(english, spanish):
        if en.cell_type == "code":
            assert code_shape(en.source) == code_shape(es.source), en.id
    texts = [(en.source, es.source) for en, es in zip(english, spanish) if en.cell_type == "markdown"]
    assert all(en != es for en, es in texts), "every markdown cell of the Spanish edition is translated"


@pytest.mark.parametrize("name, lang", [("01_attention_numpy", "en"), ("01_attention_numpy_es", "es"),
                                        ("01_attention_numpy_es-Copy1.ipynb", "es"),
                                        ("Copy of 05_cross_attention_es.ipynb", "es"),
                                        ("work/03_masks_es", "es"), ("my_essay.ipynb", "en")])
def test_the_language_of_a_name(name, lang):
    assert i18n.language_of(name) == lang


def test_the_language_of_a_kernel(monkeypatch, tmp_path):
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    folder = tmp_path / "02_keras_mha_es"
    folder.mkdir()
    monkeypatch.chdir(folder)  # Jupyter starts a kernel in its notebook's folder
    assert i18n.language() == "es"
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "02_keras_mha.ipynb"))
    assert i18n.language() == "en"
    monkeypatch.setenv(i18n.ENV, "es")  # what the grader and the self-check set
    assert i18n.language() == "es"
    with i18n.use("en"):
        assert i18n.language() == "en"
    with pytest.raises(ValueError):
        i18n.use("fr").__enter__()


def test_every_assignment_has_an_edition_per_language():
    assert editions() == [name for a in assignments() for name in (a, f"{a}_es")]
    assert {language(name) for name in editions()} == {"en", "es"}
