"""SQL snapshots of ``csframe sql METRIC:VARIANT --dialect D`` (see update.py)."""
