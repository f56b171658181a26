"""``check-pr --check-links`` on a maintainer's machine: the same address guard as over HTTP,
lifted only by ``--allow-private-links``; in process, with the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from secml_papers.service.cli import app

from .test_ssrf_api import _head
from .test_ssrf_links import counting_server


def _check_pr(fake_embedder, tmp_path: Path, *flags: str, env: dict | None = None):
    args = ["--index-dir", str(tmp_path / "idx"), "check-pr", str(tmp_path / "base.md")]
    args += [str(tmp_path / "head.md"), "--check-links", "--json", "--fail-on", "none", *flags]
    result = CliRunner().invoke(app, args, obj={"embedder": fake_embedder}, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["links"]


def test_check_links_refuses_loopback_unless_allowed(
    fake_embedder, tmp_path: Path, bundled_text: str
) -> None:
    with counting_server() as mine:
        (tmp_path / "base.md").write_text(bundled_text)
        (tmp_path / "head.md").write_text(_head(bundled_text, [mine.url("/paper")]))
        [guarded] = _check_pr(fake_embedder, tmp_path)
        assert mine.log == []
        [allowed] = _check_pr(fake_embedder, tmp_path, "--allow-private-links")
        assert [path for _, _, path in mine.log] == ["/paper"]
        by_env = _check_pr(fake_embedder, tmp_path, env={"SECML_PAPERS_ALLOW_PRIVATE_LINKS": "1"})
        assert len(mine.log) == 2
    assert (guarded["kind"], guarded["problem"]) == ("refused", True)
    assert guarded["detail"].startswith("not requested: 127.0.0.1 is a loopback address")
    assert (allowed["kind"], allowed["status"]) == ("ok", 200)
    assert by_env[0]["kind"] == "ok"
