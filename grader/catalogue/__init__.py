"""The example submissions: data the tests and `make examples` read, never used by the grading engine.

submissions (build a notebook from the reference answers and edits), mistakes (the catalogue of common wrong
answers and correct alternatives, with the cells each must lose), cells (which test cells a change to a cell can
reach, so that mistakes can share a submission).
"""
