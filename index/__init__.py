"""Everything between the parsed list and the answers: vectors, search and categorisation.

One subpackage per concern; imports point down this list, never up:

- ``embedding/``: running the model (the ``Embedder`` protocol, ONNX Runtime and PyTorch
  engines, the serving workers, the packaged model);
- ``stores/``: keeping vectors (the ``VectorStore`` protocol; FAISS files on disk, Milvus);
- ``build.py`` (list -> vectors -> a store) and ``lexical.py`` (BM25), shared by the two below;
- ``search/``: search and related papers (dense, BM25, their fusion);
- ``categorize/``: which section a paper belongs in, check-pr's placement advice, replay;
- ``evaluation/``: how well the two above work on a list.

Imports ``corpus`` records only, never ``service``; docs/architecture.md has the picture.
"""
