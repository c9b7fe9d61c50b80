"""Course delivery: getting notebooks to students and submissions back, on top of the grading engine.

release (notebooks/ from solutions/), execute (run instructor notebooks), book (the walkthrough site), exchange
(nbgrader's exchange: publish, collect, return) with inbound (what collect accepts from a student), hub (a local
JupyterHub with an instructor and two students).
"""
