"""Keeping vectors: the ``VectorStore`` protocol (``vectorstore.py``), index generations of
FAISS files on disk (``store.py``) and the FAISS index types and search (``faiss_index.py``),
the Milvus store (``milvus_store.py``) and its collection's rows and filters
(``milvus_schema.py``).

A new store implements ``VectorStore``; the service picks one by its ``store`` setting
(``service/library.py``)."""
