"""`nox -s stress`: the runtime sensor's overhead and honesty under load (see harness.py)."""
