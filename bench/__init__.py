"""Carnot's benchmarks: `python -m bench [NAME...]` (or `nox -s bench`)."""
