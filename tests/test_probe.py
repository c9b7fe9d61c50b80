"""The kernel side of grader calls: values and calls carried as data, errors reported, nothing else run."""
import __main__

import numpy as np

from attentionlab import probe


def ask(tmp_path, target, *args):
    request, reply = tmp_path / "call.npz", tmp_path / "reply.npz"
    arrays = {}
    probe.write(request, {"target": target, "args": probe.encode(list(args), arrays),
                          "kwargs": probe.encode({}, arrays)}, arrays)
    probe.answer(str(request), str(reply))
    tree, arrays = probe.read(reply, 1 << 20)
    return tree.get("error") or probe.decode(tree["value"], arrays)


def test_a_call_returns_the_result_as_data(tmp_path, monkeypatch):
    monkeypatch.setattr(__main__, "double", lambda x: 2 * x, raising=False)
    np.testing.assert_array_equal(ask(tmp_path, {"name": "double"}, np.arange(3)), [0, 2, 4])


def test_a_read_returns_the_value_without_calling_it(tmp_path, monkeypatch):
    monkeypatch.setattr(__main__, "answer_scaling", ["b", 2.5], raising=False)
    assert ask(tmp_path, {"name": "answer_scaling", "read": True}) == ["b", 2.5]


def test_a_value_that_is_not_data_is_an_error_not_a_handle(tmp_path, monkeypatch):
    monkeypatch.setattr(__main__, "answer_module", np, raising=False)
    assert "cannot send a module" in ask(tmp_path, {"name": "answer_module", "read": True})


def test_an_undefined_name_is_reported(tmp_path):
    assert "not defined in your notebook" in ask(tmp_path, {"name": "no_such_answer", "read": True})
