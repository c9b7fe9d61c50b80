"""Instructor side of Attention Lab (never installed: students' kernels cannot import it). One room per role:

- course.py: the course's constants and layout (assignments, folders, limits, the nbgrader configuration);
- grading/: the engine, the path of one submission from its bytes to its score and feedback;
- hidden/: the hidden checks, and remote.py, the calls they make into a student's kernel;
- catalogue/: example submissions and the catalogue of mistakes (data for the tests and `make examples`);
- delivery/: release, execution of the instructor notebooks, the walkthrough book, the exchange, the hub;
- measure/: calibration, benchmarks, grading throughput.

Imports point one way (tests/test_layout.py): course ← hidden ← grading ← delivery, catalogue ← measure ← __main__.
nbgrader_config.py and jupyter_server_config.py stay here, where JUPYTER_CONFIG_PATH=grader finds them.
"""
