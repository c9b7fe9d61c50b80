"""The grade table printed by `make examples`, `make demo` and `python -m grader autograde`."""
from grader.grading.autograde import Result, table


def test_columns_stay_aligned_with_long_student_names():
    results = [Result("01_attention_numpy", "reference", {"test_a": (1, 1)}, mode="bwrap"),
               Result("02_keras_mha", "mistake-mha-no-projection-biases", {"test_a": (0, 1), "test_b": (2, 2)},
                      mode="bwrap"),
               Result("05_cross_attention", "blank", error="the kernel died", mode="unsandboxed")]
    lines = table(results).splitlines()
    starts = {next(line.index(w) for w in ("mode", "bwrap", "unsandboxed") if w in line) for line in lines}
    assert len(starts) == 1, lines
    assert lines[2].endswith("2/3  bwrap       test_a") and lines[3].endswith("ERROR  unsandboxed the kernel died")
