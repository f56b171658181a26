"""Benchmarks of secml-papers (not tests, not shipped): see bench/README.md for the map.

``common/`` holds what several scripts share; the other folders hold the scripts, grouped by
what they measure. Each script runs as ``.venv/bin/python bench/<group>/<script>.py`` from the
repository root (it puts the checkout on ``sys.path`` itself, for ``bench.common``).
"""
