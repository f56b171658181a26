"""Which section of the list a paper belongs in (``categorizer.py``), from per-section features
(``features.py``, ``probe.py``) weighed by a calibrated combiner fitted on the list itself
(``calibration.py``, ``training.py``); check-pr's placement advice (``placement.py``) and the
reuse of a fitted categorizer for another version of the list (``reuse.py``)."""
