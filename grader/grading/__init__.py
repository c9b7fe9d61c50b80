"""The grading engine: the path of one submission, in the order it flows.

sanitize (rebuild the notebook from the release, keeping only the answers) → sandbox + kernel (a bubblewrap sandbox
and the kernel in it) → preprocessors (run each cell; after each test cell, its hidden check in the grader's
process) → worker (run_submission: bytes in, outcome out; a local process or a Dask worker) → autograde (the
coordinator: nbgrader replays the outcome, inert makes student content harmless, the gradebook, grades.csv through
records, the feedback with csp's policy). check grades one notebook the same way without a gradebook. Nothing here
imports the delivery, measure or catalogue rooms.
"""
