"""`secml-papers eval`: the figures, their JSON shape and the statement of what was measured."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from secml_papers.service.cli import app


def _eval(tmp_path: Path, fake_embedder, *args: str):
    return CliRunner().invoke(
        app,
        ["--index-dir", str(tmp_path / "idx"), *args, "eval", "--json"],
        obj={"embedder": fake_embedder},
    )


def test_eval_json_on_the_bundled_list(tmp_path: Path, fake_embedder) -> None:
    result = _eval(tmp_path, fake_embedder)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    cat = report["categorisation"]
    assert (cat["entries"], cat["sections"]) == (27, 8)
    for name in ("top1", "top3", "top_level_top1", "top_level_top3", "abstention", "ece"):
        assert 0.0 <= cat[name] <= 1.0, name
    assert cat["top1"] <= cat["top3"] and cat["top_level_top1"] <= cat["top_level_top3"]
    assert cat["threshold"] == 0.7
    assert sum(b["count"] for b in cat["reliability"]) == 27
    modes = {m["mode"]: m for m in report["retrieval"]["modes"]}
    assert set(modes) == {"dense", "bm25", "hybrid"}
    assert all(0 <= m["mrr@10"] <= m["hit@10"] <= 1 for m in modes.values())
    assert "each of the 27 entries" in report["measured"]
    assert report["retrieval"]["query_source"] == "27 title paraphrases"


def test_eval_on_another_list_with_abstracts(tmp_path: Path, fake_embedder) -> None:
    listing = tmp_path / "list.md"
    entries = [
        ("Backdoor Attacks", f"Backdoor trigger attack number {i} on image models")
        for i in range(5)
    ] + [("Privacy", f"Membership inference leakage study number {i}") for i in range(5)]
    lines = ["# A list", ""]
    for section in ("Backdoor Attacks", "Privacy"):
        lines += [f"## {section}", ""]
        lines += [
            f'- X et al. [**"{title}"**](https://x.org/{n}) @ **ICML 2020**.'
            for n, (s, title) in enumerate(entries)
            if s == section
        ]
        lines.append("")
    listing.write_text("\n".join(lines))
    abstracts = tmp_path / "abstracts.jsonl"
    abstracts.write_text(
        json.dumps({"title": entries[0][1], "abstract": "We poison training data.", "source": "t"})
        + "\n"
    )
    result = _eval(tmp_path, fake_embedder, "--list", str(listing), "--abstracts", str(abstracts))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["categorisation"]["entries"] == 10
    assert report["categorisation"]["top_level_top1"] == 1.0  # the words tell them apart
    assert "1 of 10 entries have an abstract" in report["measured"]
