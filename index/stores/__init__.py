"""Keeping vectors: the ``VectorStore`` protocol (``vectorstore.py``), index generations of
FAISS files on disk (``store.py``) and the Milvus store (``milvus_store.py``).

A new store implements ``VectorStore``; the service picks one by its ``store`` setting
(``service/library.py``)."""
