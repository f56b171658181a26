"""Running the model: the ``Embedder`` protocol, its engines (ONNX Runtime, PyTorch), the
serving workers that batch concurrent queries, and the model shipped as a Python package.

A new model or engine starts in ``embedder.py`` (``resolve_model``,
``SentenceTransformerEmbedder``)."""
