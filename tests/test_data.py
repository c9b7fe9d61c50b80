"""The data module: obtaining, verifying, parsing, splitting and filtering spa-eng."""
import functools
import http.server
import json
import shutil
import socket
import threading

import numpy as np
import pytest

from attentionlab import data


@pytest.fixture(scope="module")
def real_zip():
    """The real corpus, from $ATTENTIONLAB_SPA_ENG or the cache (downloaded if needed)."""
    return data.fetch()


@pytest.fixture(scope="module")
def corpus(real_zip):
    return data.load_corpus(path=real_zip)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_ZIP, raising=False)
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1; yield (folder, base url)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_normalise():
    assert data.normalise("¿Dónde está Tom?") == "¿ dónde está tom ?"
    assert data.normalise("I’m “here”, OK.") == "i'm \" here \" , ok ."
    assert data.normalise("Cafe\u0301") == "café"  # NFC


def test_parse_lines_skips_and_counts_malformed():
    lines = ["Go.\tVe.", "no tab here", "\tonly spanish", "Go.\tVe.", "Hi.\tHola.\tCC-BY 2.0 (France)", ""]
    pairs, skipped = data.parse_lines(lines)
    assert pairs == [("go .", "ve ."), ("hi .", "hola .")]
    assert skipped == 3


def test_real_zip_parses_fully(real_zip):
    pairs, skipped = data.read_pairs(real_zip)
    assert skipped == 0
    assert 110_000 < len(pairs) <= 118_964  # de-duplicated after normalisation


def test_split_is_deterministic_and_keeps_sources_together(corpus):
    assert data.split_of("i like cats .") == data.split_of("i like cats .")
    train_sources = {en for en, _ in corpus.train}
    assert not train_sources & {en for en, _ in corpus.test}
    assert not train_sources & {en for en, _ in corpus.val}


def test_subset_matches_documented_filter(corpus):
    assert 15_000 < len(corpus.train) < 20_000
    assert 600 < len(corpus.test) < 1_000 and 600 < len(corpus.val) < 1_000
    en_vocab, es_vocab = corpus.vocab
    assert len(en_vocab) == len(es_vocab) == 1000
    for en, es in corpus.train[:500] + corpus.test:
        assert corpus.subset.length_ok(en) and corpus.subset.length_ok(es)
        assert set(en.split()) <= en_vocab and set(es.split()) <= es_vocab


def test_a_template_hides_punctuation_names_and_numbers():
    assert data.template("¿ tom tiene 3 libros ?") == data.template("mary tiene 12 libros .") == "<x> tiene <x> libros"
    assert data.template("tom tiene tres libros .") != data.template("tom tiene 3 libros .")


def test_near_copies_of_training_pairs_are_found():
    train = [("tom likes green apples .", "a tom le gustan las manzanas verdes ."),
             ("where is the big red house ?", "¿ dónde está la gran casa roja ?")]
    held_out = [("mary likes green apples !", "a mary le gustan las manzanas verdes !"),  # same templates
                ("where is the big red house now ?", "¿ dónde está ahora la gran casa roja ?"),  # Jaccard 7/8
                ("the dog sleeps in the garden .", "el perro duerme en el jardín ."),
                ("i read the book you gave me .", "a tom le gustan las manzanas verdes .")]  # its Spanish is a copy
    assert data.near_copies(held_out, train) == [True, True, False, True]
    similarity, which = data.nearest(["where is the big red house now ?"], ["the dog sleeps .", "where is the big red house ?"])
    np.testing.assert_allclose(similarity, [7 / 8])
    assert which.tolist() == [1]


def test_held_out_splits_hold_no_near_copy_of_training(corpus):
    assert corpus.near_copies["val"] > 100 and corpus.near_copies["test"] > 100  # about a fifth of each split
    for split in (corpus.val, corpus.test):
        assert not any(data.near_copies(split, corpus.train))


def test_length_filter_ignores_punctuation():
    subset = data.Subset(min_words=2, max_words=3)
    assert subset.length_ok("hello there !")
    assert not subset.length_ok("hi !")
    assert not subset.length_ok("a b c d")


def test_local_copy_via_env(real_zip, empty_cache, monkeypatch):
    monkeypatch.setenv(data.ENV_ZIP, str(real_zip))
    assert data.fetch() == real_zip
    assert not empty_cache.exists()  # a local copy is used in place


def test_corrupt_local_copy_is_refused_and_kept(tmp_path, real_zip):
    bad = tmp_path / "spa-eng.zip"
    bad.write_bytes(real_zip.read_bytes()[:-10])
    with pytest.raises(data.DataError) as err:
        data.fetch(bad)
    assert data.ZIP_SHA256 in str(err.value) and data.sha256(bad) in str(err.value)
    assert bad.exists()


def test_missing_local_copy(tmp_path):
    with pytest.raises(data.DataError, match="No file"):
        data.fetch(tmp_path / "nope.zip")


def test_offline_says_how_to_provide_a_copy(empty_cache):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(data.DataError, match=data.ENV_ZIP) as err:
        data.fetch(url=f"http://127.0.0.1:{port}/spa-eng.zip")
    assert str(empty_cache / data.FILENAME) in str(err.value)
    assert not (empty_cache / data.FILENAME).exists()


def test_download_from_http_server(real_zip, empty_cache, http_server):
    www, base = http_server
    shutil.copy(real_zip, www / "spa-eng.zip")
    path = data.fetch(url=f"{base}/spa-eng.zip")
    assert path == empty_cache / data.FILENAME
    assert data.sha256(path) == data.ZIP_SHA256
    assert list(empty_cache.iterdir()) == [path]  # no partial file left
    assert data.fetch(url=f"{base}/missing") == path  # served from the cache afterwards


def test_download_with_wrong_checksum_is_refused(empty_cache, http_server):
    www, base = http_server
    (www / "spa-eng.zip").write_bytes(b"not the corpus")
    with pytest.raises(data.DataError, match="checksum"):
        data.fetch(url=f"{base}/spa-eng.zip")
    assert not any(empty_cache.iterdir())


def test_corrupt_cache_is_refused(empty_cache):
    empty_cache.mkdir()
    (empty_cache / data.FILENAME).write_bytes(b"junk")
    with pytest.raises(data.DataError, match="checksum"):
        data.fetch()


def test_zip_without_member(tmp_path):
    import zipfile

    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.txt", "a\tb\n")
    with pytest.raises(data.DataError, match="spa-eng/spa.txt"):
        data.read_pairs(path)


def _splits(corpus):
    return corpus.train, corpus.val, corpus.test, corpus.vocab, corpus.skipped_lines


def test_parsed_subset_is_kept_and_read_back_as_parsed(real_zip, empty_cache):
    pairs, skipped = data.read_pairs(real_zip)
    fresh = data.build_corpus(pairs, data.Subset(), skipped)
    assert _splits(data.parsed(real_zip)) == _splits(fresh)
    kept = data.parsed_file(real_zip)
    assert kept.parent == empty_cache and kept.is_file()
    assert _splits(data.parsed(real_zip)) == _splits(fresh)  # read back from the file
    assert data.parsed_file(real_zip, data.Subset(max_words=8)) != kept


def test_a_corrupt_parsed_file_is_parsed_again(real_zip, empty_cache):
    kept = data.parsed_file(real_zip)
    kept.parent.mkdir(parents=True)
    kept.write_text('{"train": [')
    assert len(data.parsed(real_zip).train) > 15_000
    assert len(json.loads(kept.read_text())["train"]) > 15_000


def test_a_cache_folder_that_cannot_be_written_still_gives_the_corpus(real_zip, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(data.ENV_CACHE, str(tmp_path / "a-file" / "cache"))
    assert len(data.parsed(real_zip).train) > 15_000
    assert list(tmp_path.iterdir()) == [tmp_path / "a-file"]
