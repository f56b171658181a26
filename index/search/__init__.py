"""Search and related papers over a built index: ``paper_index.py`` answers queries (dense,
BM25 or both, with filters); ``ranking.py`` fuses and cuts the candidates."""
