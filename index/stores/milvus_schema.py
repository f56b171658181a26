"""What a row of the Milvus collection holds, and how a ``Where`` filter reads those fields.

Each row holds the vector and the fields a filter reads, so filters run inside Milvus as scalar
expressions: ``year`` (nullable INT64), ``venue`` (casefolded, matched with ``like``),
``sections`` (every contiguous run of the normalised heading path, matched with
``ARRAY_CONTAINS``), plus ``text_hash`` (which text the vector embeds) and ``row_hash`` (any
stored field), so a build upserts only changed rows. User text reaches an expression only
inside a literal.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from secml_papers.corpus.errors import IndexProblem
from secml_papers.index.stores.vectorstore import RUN_SEP, Entry, Where, section_runs

MAX_RUNS, MAX_TEXT = 256, 1024
INDEX_PARAMS = {"FLAT": {}, "HNSW": {"M": 16, "efConstruction": 200}, "IVF_FLAT": {"nlist": 1024}}
SEARCH_PARAMS = {"FLAT": {}, "HNSW": {"ef": 128}, "IVF_FLAT": {"nprobe": 32}}


def literal(text: str) -> str:
    """A Milvus string literal: JSON's escapes (quote, backslash, controls) are the grammar's."""
    return json.dumps(text, ensure_ascii=False)


def like_pattern(text: str) -> str:
    """A ``like`` literal matching ``text`` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return literal(f"%{escaped}%")


def expression(where: Where) -> str:
    """The filter as a Milvus boolean expression; user text only ever inside a literal."""
    parts = []
    if where.section is not None:
        parts.append(f"ARRAY_CONTAINS(sections, {literal(RUN_SEP.join(where.section))})")
    if where.year_min is not None:
        parts.append(f"year >= {int(where.year_min)}")
    if where.year_max is not None:
        parts.append(f"year <= {int(where.year_max)}")
    if where.venue:
        parts.append(f"venue like {like_pattern(where.venue)}")
    if where.exclude:
        parts.append(f"id not in [{', '.join(literal(i) for i in sorted(where.exclude))}]")
    return " and ".join(f"({p})" for p in parts)


def collection_layout(client: Any, dim: int, index_type: str) -> tuple[Any, Any]:
    """The collection's schema and its vector index parameters."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=256)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("text_hash", DataType.VARCHAR, max_length=64)
    schema.add_field("row_hash", DataType.VARCHAR, max_length=64)
    schema.add_field("year", DataType.INT64, nullable=True)
    schema.add_field("venue", DataType.VARCHAR, max_length=MAX_TEXT)
    schema.add_field(
        "sections",
        DataType.ARRAY,
        element_type=DataType.VARCHAR,
        max_capacity=MAX_RUNS,
        max_length=MAX_TEXT,
    )
    index = client.prepare_index_params()
    index.add_index(
        field_name="vector",
        index_type=index_type,
        metric_type="IP",
        params=INDEX_PARAMS[index_type],
    )
    return schema, index


def to_row(entry: Entry) -> dict:
    """The entry as the collection stores it; runs and text cut to the schema's limits."""
    runs = section_runs(entry.section)
    if len(runs) > MAX_RUNS:
        raise IndexProblem(f"entry {entry.id} is nested too deeply for the Milvus store")
    return {
        "id": entry.id,
        "vector": np.asarray(entry.vector, dtype=np.float32).tolist(),
        "text_hash": entry.text_hash,
        "row_hash": entry.row_hash,
        "year": entry.year,
        "venue": (entry.venue or "").casefold()[:MAX_TEXT],
        "sections": [r[:MAX_TEXT] for r in runs],
    }
