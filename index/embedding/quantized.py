"""The int8 graph: ONNX Runtime's dynamic quantization of the exported float graph, made once
into the cache beside it (``SECML_PAPERS_ENGINE=onnx-int8``).

Weights are stored as int8, one scale per output channel; activations are quantized on the
fly at each call, so nothing is calibrated on data. Per channel, because one scale per tensor
bent the vectors too far: on the bundled list's titles the cosine to the float32 vectors was
0.934 at worst (mean 0.953) per tensor and 0.989 (mean 0.992) per channel, at the same speed.
The file is a quarter of the float graph's size (about 23 MB for all-MiniLM-L6-v2).
An index records which precision built it (the embedder's name carries ``+int8``), so int8
and float32 vectors are never mixed: a stale index is rebuilt, or refused with ``--no-build``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from secml_papers.corpus.atomic import atomic_path

SUFFIX = "-int8"  # the int8 graph of ``model-<key>.onnx`` is ``model-<key>-int8.onnx``
# texts per run: one. Activations are quantized with one scale per run, so in a batch a text's
# vector would depend on the texts (and the padding) beside it: up to 0.029 apart in one
# dimension between 16 short texts embedded together and one by one. Alone, a text's vector
# depends on the text only, as in float32 (where batching moves it by about 1e-7).
BATCH_SIZE = 1


def quantized_path(graph: Path) -> Path:
    """Where the int8 graph of the float graph ``graph`` lives."""
    return graph.with_name(f"{graph.stem}{SUFFIX}{graph.suffix}")


def quantized(graph: Path) -> Path:
    """The int8 graph of ``graph`` beside it, quantized first when missing (a few seconds)."""
    target = quantized_path(graph)
    if target.is_file():
        return target
    with atomic_path(target) as staged:
        quantize(graph, staged)
    return target


def quantize(graph: Path, out: Path) -> None:
    """Dynamic int8 quantization of every operator ONNX Runtime can quantize."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_root_logger():
        quantize_dynamic(str(graph), str(out), per_channel=True, weight_type=QuantType.QInt8)


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """The quantizer's advice to pre-process goes to the root logger through
    ``logging.warning``, which would also configure logging for the whole process: a
    handler that drops it, at warning level, while the quantizer runs."""
    root = logging.getLogger()
    silent = logging.NullHandler()
    previous = logging.root.manager.disable
    root.addHandler(silent)
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)
        root.removeHandler(silent)
