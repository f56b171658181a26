"""The parts of bench/performance/perf_query.py: its baseline, its profile, its fresh processes."""
