"""The grade table printed by `make examples` and `make demo`."""
from grader.autograde import Result, table


def test_columns_stay_aligned_with_long_student_names():
    results = [Result("01_attention_numpy", "reference", {"test_a": (1, 1)}),
               Result("02_keras_mha", "mistake-mha-no-projection-biases", {"test_a": (0, 1), "test_b": (2, 2)}),
               Result("05_cross_attention", "blank", error="Traceback\nDeadKernelError: kernel died")]
    lines = table(results).splitlines()
    assert len({line.index("  ", 60) for line in lines}) == 1, lines
    assert lines[2].endswith("2/3  test_a") and lines[3].endswith("ERROR  DeadKernelError: kernel died")
