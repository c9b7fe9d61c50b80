"""Stand-ins for what a hidden check receives from the student's kernel (grader.hidden.remote.Remote), for tests that
run checks in this process, and a translator without a model."""
import numpy as np

from attentionlab import data
from grader.hidden.remote import StudentError


class Variable:
    """A notebook's object as a hidden check receives it: read it (``value``), or call it when it is a function or a
    class. ``NotImplemented`` stands for a name the notebook never set."""

    def __init__(self, value, name: str = "answer"):
        self._value, self.name = value, name

    def __call__(self, *args, **kwargs):
        return self.value()(*args, **kwargs)

    def value(self, handles: bool = False):
        if self._value is NotImplemented:
            raise StudentError(f"NameError: name {self.name!r} is not defined")
        return self._value

    def __repr__(self):
        return self.name


def lookup_translator(corpus):
    """A translator without a model: the Spanish of the training pair whose English shares the most words (token
    Jaccard), with attention made up to point at the copied words."""
    train = list(dict(corpus.train).items())

    def translate(sources, return_attention=False):
        _, best = data.nearest(list(sources), [en for en, _ in train])
        texts = [train[i][1] for i in best]
        weights = [np.array([[float(w == s) for s in source.split()] for w in text.split() + ["[end]"]])
                   for source, text in zip(sources, texts)]
        return (texts, weights) if return_attention else texts

    return translate
