"""Attention Lab: shared code for the course notebooks (data, metrics, plots, checks)."""
