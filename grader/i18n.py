"""The grader's messages in the submission's language: hidden checks, grading notes, the self-check, feedback.

``_("{name} is wrong.", name=x)`` as in :mod:`attentionlab.i18n`; the catalogue is locale/es/LC_MESSAGES/checks.po.
The grader sets the language of each submission with ``attentionlab.i18n.use``.
"""
from attentionlab.i18n import N_, Messages  # noqa: F401 (N_ marks constants here too)
from grader.course import ROOT

LOCALE = ROOT / "locale"
_ = Messages("checks", LOCALE)
