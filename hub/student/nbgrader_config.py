"""Students' nbgrader config on the hub: the course and its exchange (fetched work goes to the home folder)."""
import os

c = get_config()  # noqa: F821 (provided by traitlets)
c.CourseDirectory.course_id = "attentionlab"
c.Exchange.root = os.environ["ATTENTIONLAB_EXCHANGE"]
