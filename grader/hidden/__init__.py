"""Hidden tests: called from the test cells' hidden part, so their logic never enters a notebook."""
import functools


def hidden_check(check):
    """Re-raise a failure as a bare AssertionError, so feedback shows the message, not the test code."""
    @functools.wraps(check)
    def run(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 (read by IPython and pytest)
        try:
            return check(*args, **kwargs)
        except AssertionError as exc:
            message = str(exc)
        except Exception as exc:  # the student's code raised inside a hidden test
            message = f"Your code raised {type(exc).__name__} in a hidden test: {exc}"
        raise AssertionError(message) from None

    return run
