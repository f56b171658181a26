"""Embedding, the FAISS store, search, related papers and categorisation.

Imports ``corpus`` records only; the only module here that touches the disk is ``store``.
"""
