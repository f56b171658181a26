"""How well categorisation (``evaluate.py``: leave-one-out, calibration) and retrieval
(``known_item.py``: can a paper be found from a paraphrase of its title) work on a list."""
