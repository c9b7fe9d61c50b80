"""Stand-ins for what a hidden check receives from the student's kernel (grader.hidden.remote.Remote), for tests that
run checks in this process."""
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
