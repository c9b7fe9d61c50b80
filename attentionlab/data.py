"""The English–Spanish corpus: obtain, verify, normalise, split and filter.

Source: manythings.org/anki, from tatoeba.org (CC-BY 2.0), the ``spa-eng.zip``
that TensorFlow's translation tutorials download. See data/README.md.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
import urllib.error
import urllib.request
import zipfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from attentionlab.i18n import _

URL = "https://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
ZIP_SHA256 = "0c4fd7825d3d872488d38c157f784e035edab4f2ff0df25a2a208790ecb5b58f"
TXT_SHA256 = "6ec60e212f812ee3430f7568ea6f33b6fb080e32193c5952e8da0ee8ba45574c"
MEMBER = "spa-eng/spa.txt"
FILENAME = "spa-eng.zip"
ENV_ZIP = "ATTENTIONLAB_SPA_ENG"
ENV_SHA256 = "ATTENTIONLAB_SPA_ENG_SHA256"  # set by the grader for its held-out copy (test split removed)
ENV_CACHE = "ATTENTIONLAB_CACHE"
HELD_OUT = "spa-eng-held-out-{}.zip"  # named after the source and this module (which defines the split)
PARSED = "corpus-{}.json"  # a parsed subset, named after its zip's checksum, the subset and this module


class DataError(RuntimeError):
    """The corpus could not be obtained or is not the expected file."""


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected: str = ZIP_SHA256) -> Path:
    """Return ``path`` if its SHA-256 is ``expected``; raise DataError otherwise."""
    actual = sha256(path)
    if actual != expected:
        raise DataError(_(
            "{path} is not the expected spa-eng.zip (checksum mismatch).\n"
            "  expected SHA-256: {expected}\n  actual SHA-256:   {actual}\n"
            "Delete it or point {variable} at a good copy.", path=path, expected=expected, actual=actual,
            variable=ENV_ZIP))
    return path


def cache_dir() -> Path:
    """Folder for the downloaded zip: $ATTENTIONLAB_CACHE, else data/cache/ of the checkout."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    checkout_data = Path(__file__).resolve().parents[1] / "data"
    if checkout_data.is_dir():
        return checkout_data / "cache"
    return Path.home() / ".cache" / "attentionlab"


@contextmanager
def _replacing(target: Path, mode: str = "wb", check=None):
    """A new file that takes the place of ``target`` when the block ends and ``check(its path)`` passes, readable by
    the sandbox's user; on any error ``target`` is left as it was. Readers never see a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile(mode, dir=target.parent, suffix=".part", delete=False,
                                      encoding=None if "b" in mode else "utf-8")
    part = Path(tmp.name)
    try:
        with tmp:
            yield tmp
        if check:
            check(part)
        part.chmod(0o644)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def _download(url: str, target: Path) -> None:
    """Download ``url`` to ``target`` atomically, with a progress bar; verify first."""
    with _replacing(target, check=verify) as tmp, urllib.request.urlopen(url, timeout=30) as resp:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=FILENAME) as bar:
            for block in iter(lambda: resp.read(1 << 16), b""):
                tmp.write(block)
                bar.update(len(block))


def fetch(path: str | Path | None = None, url: str = URL) -> Path:
    """Path to a verified spa-eng.zip.

    Order: ``path`` if given, else ``$ATTENTIONLAB_SPA_ENG``, else the cached
    download, else download ``url`` into the cache. A local copy is never
    modified or deleted, whatever its checksum.
    """
    local = path or os.environ.get(ENV_ZIP)
    if local:
        local = Path(local).expanduser()
        if not local.is_file():
            raise DataError(_("No file at {path} (given by argument or ${variable}).", path=local, variable=ENV_ZIP))
        return verify(local, os.environ.get(ENV_SHA256) or ZIP_SHA256)
    cached = cache_dir() / FILENAME
    if cached.is_file():
        return verify(cached)
    try:
        _download(url, cached)
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(_(
            "Could not download {url} ({error}).\n"
            "Offline? Copy spa-eng.zip to {cached}, or set {variable}=/path/to/spa-eng.zip.", url=url, error=exc,
            cached=cached, variable=ENV_ZIP)) from exc
    return cached


_PUNCT = re.compile(r"([¿¡?!.,;:\"])")
_QUOTES = str.maketrans({"“": '"', "”": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})


def normalise(text: str) -> str:
    """Lower-case, NFC, straight quotes, punctuation split off as its own token."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES).lower()
    text = _PUNCT.sub(r" \1 ", text)
    return " ".join(text.split())


# Names and numbers the translations copy unchanged (the subset's most frequent): a template hides them.
NAMES = frozenset({"tom", "mary", "john", "boston", "alice", "paris", "london", "tokyo", "ken", "jack"})
NEAR = 0.8  # token Jaccard with a training sentence from which a held-out sentence counts as a near-copy of it


def template(sentence: str) -> str:
    """The words of a normalised sentence, names and numbers replaced by "<x>": two sentences with one template differ
    only by punctuation, a name or a number."""
    return " ".join("<x>" if tok in NAMES or tok.isdigit() else tok for tok in sentence.split()
                    if not _PUNCT.fullmatch(tok))


def nearest(sentences: list[str], known: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For each sentence, the largest token Jaccard similarity (|A ∩ B| / |A ∪ B| of token sets) with a sentence of
    ``known``, and that sentence's index."""
    index = {tok: i for i, tok in enumerate(sorted({tok for s in known for tok in s.split()}))}

    def bags(texts):  # (len(texts), len(index)) 0/1 matrix of the known tokens each text holds
        out = np.zeros((len(texts), len(index)), np.float32)
        for row, text in enumerate(texts):
            out[row, [index[tok] for tok in set(text.split()) if tok in index]] = 1
        return out

    ours, theirs = bags(sentences), bags(known)
    sizes = np.array([len(set(s.split())) for s in sentences], np.float32)[:, None]  # unknown tokens count too
    best, where = np.zeros(len(sentences), np.float32), np.zeros(len(sentences), int)
    for start in range(0, len(known), 4096):  # (sentences, 4096) at a time: bounded memory
        common = ours @ theirs[start:start + 4096].T
        similarity = common / (sizes + theirs[start:start + 4096].sum(axis=1) - common)
        better = similarity.max(axis=1) > best
        where[better] = start + similarity.argmax(axis=1)[better]
        best = np.maximum(best, similarity.max(axis=1))
    return best, where


def near_copies(pairs: list[tuple[str, str]], train: list[tuple[str, str]]) -> list[bool]:
    """Whether each held-out pair nearly copies a training pair: on either side, the same template as a training
    sentence, or a token Jaccard of at least NEAR with one. Such pairs measure recall, not translation."""
    flags = np.zeros(len(pairs), bool)
    for side in (0, 1):
        known = [pair[side] for pair in train]
        templates = {template(s) for s in known}
        ours = [pair[side] for pair in pairs]
        flags |= np.array([template(s) in templates for s in ours], bool) | (nearest(ours, known)[0] >= NEAR)
    return flags.tolist()


def word_count(sentence: str) -> int:
    """Words in a normalised sentence, punctuation tokens not counted."""
    return sum(1 for tok in sentence.split() if not _PUNCT.fullmatch(tok))


def read_pairs(zip_path: Path) -> tuple[list[tuple[str, str]], int]:
    """Normalised, de-duplicated (english, spanish) pairs and the number of malformed lines skipped."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            raw = zf.read(MEMBER)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DataError(_("{path} is not a spa-eng.zip holding {member}: {error}", path=zip_path, member=MEMBER,
                          error=exc)) from exc
    return parse_lines(raw.decode("utf-8", errors="replace").splitlines())


def parse_lines(lines: list[str]) -> tuple[list[tuple[str, str]], int]:
    """Parse ``english<TAB>spanish[<TAB>attribution]`` lines; skip and count malformed ones."""
    pairs, seen, skipped = [], set(), 0
    for line in lines:
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            skipped += 1
            continue
        pair = (normalise(fields[0]), normalise(fields[1]))
        if pair not in seen:
            seen.add(pair)
            pairs.append(pair)
    return pairs, skipped


def held_out_copy(zip_path: Path, folder: Path) -> Path:
    """A spa-eng.zip without the lines of the test split, for graded kernels: they never see its translations.

    ``zip_path`` is the verified spa-eng.zip; the copy is written once per version of this module (same bytes every
    time), and the grader passes its checksum in ENV_SHA256.
    """
    target = folder / HELD_OUT.format(_version())  # the source is the verified zip
    if not target.is_file():
        with zipfile.ZipFile(zip_path) as zf:
            lines = zf.read(MEMBER).decode("utf-8", errors="replace").splitlines()
        kept = [line for line in lines if split_of(normalise(line.split("\t")[0])) != "test"]
        with _replacing(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(zipfile.ZipInfo(MEMBER, date_time=(2000, 1, 1, 0, 0, 0)), "\n".join(kept) + "\n")
    return target


def _version() -> str:
    """This module's own checksum: it defines normalising, splitting and filtering."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def split_of(source: str, val_pct: int = 5, test_pct: int = 5) -> str:
    """'train', 'val' or 'test', fixed by a hash of the English source.

    All translations of one English sentence land in the same split, so the
    test set never shares a source sentence with training.
    """
    bucket = int(hashlib.sha1(source.encode("utf-8")).hexdigest(), 16) % 100
    if bucket < test_pct:
        return "test"
    return "val" if bucket < test_pct + val_pct else "train"


@dataclass(frozen=True)
class Subset:
    """Which pairs to keep: sentence length in words and vocabulary coverage.

    A pair is kept when both sides have ``min_words``..``max_words`` words
    (punctuation not counted) and every token on each side is among the
    ``vocab_size`` most frequent tokens of that language in the training split.
    """

    min_words: int = 4
    max_words: int = 10
    vocab_size: int = 1000  # 17,474 training pairs: the translators train in about a minute (2,000: twice as long)

    def length_ok(self, sentence: str) -> bool:
        """True when the sentence has an allowed number of words."""
        return self.min_words <= word_count(sentence) <= self.max_words


@dataclass
class Corpus:
    """Train/validation/test pairs of one subset, with the vocabularies used to filter."""

    train: list[tuple[str, str]]
    val: list[tuple[str, str]]
    test: list[tuple[str, str]]
    subset: Subset
    skipped_lines: int = 0
    vocab: tuple[set[str], set[str]] = field(default_factory=lambda: (set(), set()))
    near_copies: dict[str, int] = field(default_factory=dict)  # held-out pairs removed as near-copies of training

    def __repr__(self) -> str:
        return _("Corpus(train={train}, val={val}, test={test}, subset={subset}, skipped_lines={skipped}, "
                 "near_copies_removed={removed})", train=len(self.train), val=len(self.val), test=len(self.test),
                 subset=self.subset, skipped=self.skipped_lines, removed=self.near_copies)


def _top_tokens(sentences, size: int) -> set[str]:
    counts = Counter(tok for s in sentences for tok in s.split())
    return {tok for tok, _ in counts.most_common(size)}


def build_corpus(pairs: list[tuple[str, str]], subset: Subset = Subset(), skipped: int = 0) -> Corpus:
    """Split ``pairs`` by source hash, then keep the pairs that fit ``subset``."""
    fitting = [p for p in pairs if subset.length_ok(p[0]) and subset.length_ok(p[1])]
    splits = {"train": [], "val": [], "test": []}
    for pair in fitting:
        splits[split_of(pair[0])].append(pair)
    vocab = (_top_tokens((en for en, _ in splits["train"]), subset.vocab_size),
             _top_tokens((es for _, es in splits["train"]), subset.vocab_size))

    def covered(pair):
        return all(t in vocab[0] for t in pair[0].split()) and all(t in vocab[1] for t in pair[1].split())

    kept = {name: [p for p in split if covered(p)] for name, split in splits.items()}
    removed = {}
    for name in ("val", "test"):
        copies = near_copies(kept[name], kept["train"])
        removed[name] = sum(copies)
        kept[name] = [pair for pair, copy in zip(kept[name], copies) if not copy]
    return Corpus(**kept, subset=subset, skipped_lines=skipped, vocab=vocab, near_copies=removed)


def load_corpus(subset: Subset = Subset(), path: str | Path | None = None) -> Corpus:
    """Fetch and verify spa-eng.zip, and return the split subset (parsed once, then read from the cache)."""
    return parsed(fetch(path), subset)


def parsed_file(zip_path: Path, subset: Subset = Subset()) -> Path:
    """Where ``parsed`` keeps the subset of ``zip_path``: the cache folder, under a name no other zip, subset or
    version of this module shares."""
    key = f"{sha256(zip_path)} {subset} {_version()}"
    return cache_dir() / PARSED.format(hashlib.sha256(key.encode()).hexdigest()[:16])


def parsed(zip_path: Path, subset: Subset = Subset()) -> Corpus:
    """The subset of a verified zip: normalising 119k pairs takes seconds, so the result is kept as JSON (when the
    cache folder is writable; a graded kernel reads the grader's copy)."""
    path = parsed_file(zip_path, subset)
    try:
        return _from_json(json.loads(path.read_text(encoding="utf-8")), subset)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    pairs, skipped = read_pairs(zip_path)
    corpus = build_corpus(pairs, subset, skipped)
    _keep(path, {"train": corpus.train, "val": corpus.val, "test": corpus.test, "skipped": skipped,
                 "vocab": [sorted(v) for v in corpus.vocab], "near_copies": corpus.near_copies})
    return corpus


def _keep(path: Path, record: dict) -> None:
    """Write ``record`` to ``path`` atomically; a read-only folder keeps nothing."""
    try:
        with _replacing(path, "w") as tmp:
            json.dump(record, tmp, ensure_ascii=False)
    except OSError:
        pass


def _from_json(record: dict, subset: Subset) -> Corpus:
    splits = {name: [tuple(pair) for pair in record[name]] for name in ("train", "val", "test")}
    return Corpus(**splits, subset=subset, skipped_lines=record["skipped"], vocab=tuple(set(v) for v in record["vocab"]),
                  near_copies=record["near_copies"])
