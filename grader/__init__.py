"""Instructor side of Attention Lab: nbgrader wiring, hidden tests, example submissions."""
