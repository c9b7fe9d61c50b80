"""nbgrader configuration for Attention Lab (read by `make lab` and by grader.course)."""
from pathlib import Path

from grader.kernel import autograde_preprocessors

c = get_config()  # noqa: F821 (provided by traitlets)

ROOT = Path(__file__).resolve().parents[1]

c.CourseDirectory.course_id = "attentionlab"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "grader/submitted"
c.CourseDirectory.autograded_directory = "grader/autograded"
c.CourseDirectory.feedback_directory = "grader/feedback"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'grader' / 'gradebook.db'}"

# Training cells need far more than nbgrader's default 30 s per cell.
c.Execute.timeout = 1800
c.Execute.kernel_name = "attentionlab"
c.Execute.interrupt_on_timeout = True
# The kernel's stderr (TensorFlow start-up lines) goes to grader/kernel.log, not the terminal.
c.Autograde.autograde_preprocessors = autograde_preprocessors()

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
