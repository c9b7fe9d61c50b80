"""nbgrader configuration for Attention Lab (read by `make lab` and by grader.course)."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the grader package is not installed: students' kernels must not import it

from grader.course import EXCHANGE, WORKDIR  # noqa: E402
from grader.grading.inert import Inert  # noqa: E402
from grader.grading.preprocessors import autograde_preprocessors  # noqa: E402

c = get_config()  # noqa: F821 (provided by traitlets)

c.CourseDirectory.course_id = "attentionlab"
c.CourseDirectory.root = str(ROOT)
# solutions/ linked and the Spanish editions generated from its catalogues (grader/delivery/translate.py)
c.CourseDirectory.source_directory = "build/source"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "grader/submitted"
c.CourseDirectory.autograded_directory = "grader/autograded"
c.CourseDirectory.feedback_directory = "grader/feedback"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'grader' / 'gradebook.db'}"
if os.environ.get(WORKDIR):  # tests: a gradebook and submissions of their own, also for `make lab`
    work = Path(os.environ[WORKDIR])
    c.CourseDirectory.submitted_directory = str(work / "submitted")
    c.CourseDirectory.autograded_directory = str(work / "autograded")
    c.CourseDirectory.feedback_directory = str(work / "feedback")
    c.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}"

# The exchange releases, submissions and feedback pass through (`make exchange` creates it); on a hub, a folder
# every user reaches. Fetched assignments go to work/, so nobody edits the tracked notebooks/.
c.Exchange.root = os.environ.get(EXCHANGE, str(ROOT / "grader" / "exchange"))
c.Exchange.assignment_dir = str(ROOT / "work")
# The formgrader's (and nbgrader's commands') collect and release_feedback are the course's (grader/delivery/exchange.py):
# collect trusts nothing in the inbound, feedback is released student by student, skipping broken submissions.
c.ExchangeFactory.collect = "grader.delivery.exchange.Collect"
c.ExchangeFactory.release_feedback = "grader.delivery.exchange.ReleaseFeedback"
# Feedback made from the formgrader too: formulas in MathML, no script (grader/grading/feedback.py).
c.GenerateFeedback.exporter_class = "grader.grading.feedback.FeedbackExporter"

# Training cells need far more than nbgrader's default 30 s per cell.
c.Execute.timeout = 1800
c.Execute.kernel_name = "attentionlab"
c.Execute.interrupt_on_timeout = True
# Students' kernels run in a sandbox; hidden checks decide in the grader (grader/grading/preprocessors.py).
c.Autograde.autograde_preprocessors = autograde_preprocessors()
# Every HTML view of a notebook (formgrader, feedback) first makes student content inert (grader/grading/inert.py), also in
# notebooks autograded before that step existed.
c.HTMLExporter.preprocessors = [Inert]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
