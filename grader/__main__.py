"""Course commands: python -m grader {data,release,solutions,book,autograde,check,examples,demo,calibrate,benchmark,
exchange,publish,collect,return,hub,
throughput}."""
from __future__ import annotations

import argparse
import functools
import os
import sys
import warnings

from attentionlab.kernel import quiet_tensorflow
from grader import course
from grader.catalogue import mistakes, submissions
from grader.delivery import execute, release
from grader.grading import autograde


def cmd_data(_args) -> int:
    from attentionlab import data

    path = data.fetch()
    corpus = data.load_corpus(path=path)
    print(f"spa-eng.zip verified at {path}\n{corpus}")
    return 0


def cmd_calibrate(args) -> int:
    from grader.measure.calibrate import calibrate

    calibrate(tuple(args.seeds))
    return 0


def cmd_benchmark(_args) -> int:
    from grader.measure.benchmark import report

    print(report())
    return 0


def cmd_throughput(_args) -> int:
    from grader.measure.throughput import report

    print(report())
    return 0


def cmd_release(_args) -> int:
    for path in release.release():
        print(f"released {path.relative_to(course.ROOT)}")
    return 0


def cmd_solutions(args, chosen=None) -> int:
    """Execute the instructor notebooks (``chosen``, the one named, or all); any error or failing test fails."""
    chosen = chosen or ([args.assignment] if getattr(args, "assignment", None) else course.assignments())
    paths = [course.notebook_of(a) for a in chosen]
    failed = 0
    for path, seconds, error in execute.execute_all(paths, progress=True):
        status = "ok" if error is None else "FAILED"
        print(f"{status:6} {seconds:7.1f} s  {path.relative_to(course.ROOT)}")
        if error:
            failed += 1
            print(error[-3000:], file=sys.stderr)
    return 1 if failed else 0


def cmd_book(_args) -> int:
    """Build the walkthrough site from the executed instructor notebooks (cached by content)."""
    from grader.delivery.book import build

    print(f"book: {build()}")
    return 0


def example_submissions() -> list[tuple[str, str]]:
    """Write the bundled example submissions; return (assignment, student) pairs. The notebooks that train no model
    also have a Spanish reference and blank, so the class is mixed."""
    made = []
    for assignment in course.assignments():
        answers = submissions.solution_sources(assignment)
        submissions.submit(submissions.student_notebook(assignment, answers), assignment, "reference")
        submissions.submit(submissions.student_notebook(assignment, {}), assignment, "blank")
        made += [(assignment, "reference"), (assignment, "blank")]
        for edit in mistakes.for_assignment(assignment):
            submissions.submit(submissions.with_edits(edit), assignment, edit.student)
            made.append((assignment, edit.student))
    for assignment in (a for a in course.assignments() if a not in course.NEEDS_DATA):  # a mixed class
        spanish = course.edition(assignment, "es")
        submissions.submit(submissions.student_notebook(assignment, submissions.solution_sources(assignment), "es"),
                           spanish, "reference")
        submissions.submit(submissions.student_notebook(assignment, {}, "es"), spanish, "blank")
        made += [(spanish, "reference"), (spanish, "blank")]
    return made


def _report(results) -> None:
    print("\n" + autograde.table(results))
    print(f"\nGrades: {autograde.csv_path()}\nFeedback (HTML): "
          f"{course.ROOT / course.config().CourseDirectory.feedback_directory}/<student>/<assignment>/")


def cmd_autograde(args) -> int:
    """Grade every submission (of the named students) of one assignment, or of every assignment."""
    chosen = [args.assignment] if args.assignment else course.editions()
    results = []
    for assignment in chosen:
        results += autograde.grade_class(assignment, args.students or None, workers=args.workers,
                                         scheduler=args.scheduler, regrade=args.regrade)
    if results:
        _report(results)
    else:
        print("Nothing new to grade: every submission has its row in grades.csv (--regrade grades them again).")
    return 0


def cmd_exchange(args) -> int:
    """Create the exchange with the mode nbgrader documents, and say whether students can use it."""
    from grader.delivery import exchange

    path = exchange.create()
    message = exchange.problem(path)
    print(message or f"exchange ready: {path}")
    if message:
        return 1
    for assignment in sorted(set(course.editions()) - exchange.published()) if args.publish else []:
        exchange.publish(assignment)
        print(f"released {assignment} (fetch it from JupyterLab's Assignments panel)")
    return 0


def cmd_publish(args) -> int:
    """Release an assignment's student version to the exchange, for students to fetch."""
    from grader.delivery import exchange

    exchange.publish(args.assignment)
    print(f"released {args.assignment} to {exchange.root()}")
    return 0


def cmd_collect(args) -> int:
    """Collect the submissions of an assignment from the exchange and autograde the new ones, sandboxed; list the
    inbound's folders refused (kept in refused.csv)."""
    from grader.delivery import exchange

    students, refused = exchange.collect(args.assignment)
    print(f"collected {len(students)} new or changed submission(s) of {args.assignment}")
    if refused:
        print(f"refused {len(refused)} folder(s) of the inbound: not copied, not graded "
              f"(listed in {exchange.refused_path()}):")
        for r in refused:
            print(f"  {exchange.inbound.shown(r.folder)}: {r.reason}")
    return cmd_autograde(args)


def cmd_return(args) -> int:
    """Put each graded student's feedback in the exchange, for each student to fetch their own; list who was
    skipped and why (the others get theirs)."""
    from grader.delivery import exchange

    released, skipped = exchange.return_feedback(args.assignment)
    print(f"feedback of {args.assignment} released to {exchange.root()} for {len(released)} student(s)")
    if skipped:
        print(f"skipped {len(skipped)} student(s), whose feedback is not in the exchange:")
        by_reason: dict[str, list[str]] = {}
        for student, why in skipped.items():
            by_reason.setdefault(why, []).append(student)
        for why, students in by_reason.items():  # examples handed in outside the exchange share one line
            print(f"  {', '.join(students)}: {why}")
    return 0


def cmd_hub(args) -> int:
    """Prepare the course's JupyterHub (accounts, environment, exchange) and start it, or only prepare it."""
    from grader.delivery import hub

    try:
        hub.prepare() if args.prepare_only else hub.start()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_check(args) -> int:
    """Self-check one notebook: per-exercise points and what to fix, with no gradebook."""
    from pathlib import Path

    from attentionlab.i18n import use

    from grader.grading.check import assignment_of, check, report
    from grader.grading.sanitize import SubmissionError

    if not args.assignment:
        print("usage: python -m grader check PATH/TO/NOTEBOOK.ipynb", file=sys.stderr)
        return 2
    if os.name == "nt":  # the kernel talks over Unix sockets
        print("error: the self-check runs on Linux or macOS; on Windows, run it in WSL (docs/without-make.md)",
              file=sys.stderr)
        return 2
    path = Path(args.assignment)
    try:
        lang = course.language(assignment_of(path))
    except SubmissionError:  # check() says what is wrong, in the language of the notebook's name
        lang = course.language(path.name)
    with use(lang):
        print(report(check(path)))
    return 0


def cmd_translate(args) -> int:
    """Catalogues of the Spanish edition: ``update`` merges the sources' messages in, ``check`` lists problems."""
    from grader.delivery import translate

    if args.assignment == "update":
        for path in translate.update():
            print(f"updated {path.relative_to(course.ROOT)}")
        return 0
    if args.assignment != "check":
        print("usage: python -m grader translate update|check", file=sys.stderr)
        return 2
    found = translate.check()
    print("\n".join(found) or "every catalogue is complete and in step with its source")
    return 1 if found else 0


def cmd_examples(args) -> int:
    pairs = example_submissions()
    for assignment in dict.fromkeys(a for a, _ in pairs):
        autograde.ensure_in_gradebook(assignment)
    results = autograde.grade_submissions({p: autograde.fingerprint(*p) for p in pairs}, workers=args.workers)
    _report(results)
    surprises = mistakes.surprises(results)
    print("\n".join(f"Not as catalogued: {line}" for line in surprises)
          or f"All {len(results)} examples lost what grader/catalogue/mistakes.py says they lose.")
    return 1 if surprises or any(r.error for r in results) else 0


def cmd_demo(args) -> int:
    """Data, student notebooks, the instructor notebooks that do not train, then every example graded. The
    training notebooks' reference answers are among the examples: graded, they train as the solutions would."""
    quick = [a for a in course.assignments() if a not in course.NEEDS_DATA]
    steps = {"data": cmd_data, "release": cmd_release, "solutions that train no model (make solutions runs all)":
             functools.partial(cmd_solutions, chosen=quick), "examples": cmd_examples}
    for name, step in steps.items():
        print(f"\n== {name} ==", flush=True)
        if step(args):
            return 1
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = {"data": cmd_data, "release": cmd_release, "solutions": cmd_solutions, "book": cmd_book, "autograde": cmd_autograde,
                "check": cmd_check, "exchange": cmd_exchange, "publish": cmd_publish, "collect": cmd_collect,
                "return": cmd_return, "hub": cmd_hub, "examples": cmd_examples, "demo": cmd_demo, "calibrate": cmd_calibrate,
                "benchmark": cmd_benchmark, "throughput": cmd_throughput, "translate": cmd_translate}
    parser.add_argument("command", choices=commands)
    parser.add_argument("assignment", nargs="?",
                        help="autograde: the assignment (default: every one); publish, collect, return: the "
                             "assignment; check: the notebook's path; translate: update or check")
    parser.add_argument("students", nargs="*", help="autograde: only these students (default: every submission)")
    parser.add_argument("--workers", type=int, default=1, help="autograde, examples, demo: submissions graded at once on this machine")
    parser.add_argument("--scheduler", help="autograde: address of a dask.distributed scheduler to grade on")
    parser.add_argument("--regrade", action="store_true", help="autograde: grade again what was already graded")
    parser.add_argument("--publish", action="store_true",
                        help="exchange: also release every assignment that is not in the exchange yet")
    parser.add_argument("--prepare-only", action="store_true", help="hub: prepare everything, do not start it")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="calibrate: seeds to run")
    args = parser.parse_args(argv)
    if args.command in ("publish", "collect", "return") and not args.assignment:
        parser.error(f"{args.command} needs an assignment, one of: {' '.join(course.editions())}")
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy noise from nbgrader's gradebook
    quiet_tensorflow()  # the hidden checks' TensorFlow: no start-up lines among the command's output
    try:
        if args.command not in ("data", "translate"):  # nbgrader's source folder: solutions/ and its translations
            from grader.delivery.translate import write_sources

            write_sources()
        return commands[args.command](args)
    except Exception as exc:  # a clear one-line error, not a traceback, for known failures
        from attentionlab.data import DataError

        from grader.hidden import SetupError

        from grader.grading.sanitize import SubmissionError

        if isinstance(exc, (DataError, release.GradingError, SetupError, SubmissionError)):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
