"""The sections of docs/benchmarks.md around the ratio table (used by perf_report.py).

Every figure is read from the results; the sentences only say what the figures mean. One
module per section of the page: header, build, query (and the peer), scale, checkpr (and
memory), startup (100,000 entries cold and warm), int8 (the int8 engine against float32), soak,
diagnosis.
"""

from __future__ import annotations

from bench.performance.report_sections.build import build_section
from bench.performance.report_sections.checkpr import checkpr_section, memory_section
from bench.performance.report_sections.diagnosis import diagnosis
from bench.performance.report_sections.header import header
from bench.performance.report_sections.int8 import int8_section
from bench.performance.report_sections.query import peer_section, query_section
from bench.performance.report_sections.scale import scale_section
from bench.performance.report_sections.soak import soak_section
from bench.performance.report_sections.startup import startup_section


def sections(
    targets: list[str], b, q, p, s, c, m, earlier=None, soak=None, startup=None
) -> list[str]:
    return [
        *header([b, q, p, s, c, m]),
        "## Ratios against the targets",
        "",
        *(
            [
                "The *earlier run* column: the same comparisons from the scripts' run earlier the same",
                "day on the same machine, before this round of changes (ONNX Runtime, the model's",
                "own workers, the async /search, the categorizer's reuse and sampled fit, hybrid",
                "candidates on IVF) and before some changes to the scripts' method (the",
                "baseline's own process, the lean client).",
                "",
            ]
            if "earlier run" in targets[0]
            else []
        ),
        *targets,
        "",
        *build_section(b),
        *query_section(q),
        *peer_section(p),
        *scale_section(s),
        *checkpr_section(c),
        *memory_section(m),
        *startup_section(startup),
        *int8_section(),  # reads $SECML_BENCH_OUT/int8.json itself
        *soak_section(soak),
        *diagnosis(b, q, p, c, m, earlier),
    ]
