"""Time to the first pull-request comment on a fresh runner, as a maintainer feels it.

A fresh venv installs secml-papers as action.yml does (CPU torch 2.13.0, then the package from
its checkout), then runs check-pr on a pull request to the bundled list three ways:
- cold: nothing cached (the model's ONNX graph is exported, BASE's index is built);
- warm: the cache folder of the cold run kept, as action.yml's actions/cache restores it;
- the check alone: the same pull request checked in-process with the model loaded and BASE's
  categorizer fitted (what the service does per request), the floor of the ratios.
pip's own download cache is whatever this machine has (on a runner, action.yml caches it).

Usage: python bench/performance/perf_first_comment.py [--keep DIR]
Writes first_comment.json under $SECML_BENCH_OUT (default /tmp/secml-bench-perf).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common
from bench.common.paths import ROOT
from bench.common.results import save

PULL_REQUEST = (
    '- Carlini et al. [**"Membership Inference Attacks From First Principles"**]'
    "(https://arxiv.org/pdf/2112.03570) @ **S&P 2022**."
)


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):  # 1: findings, a normal outcome of a check
        raise SystemExit(f"{command[:3]} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the venv here and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="secml-first-comment-"))
    work.mkdir(parents=True, exist_ok=True)
    venv = work / "venv"
    base = (ROOT / "corpus" / "data" / "awesome-secml-papers.md").read_text()
    head = base.replace(
        "### Membership Inference Attacks\n",
        f"### Membership Inference Attacks\n\n{PULL_REQUEST}\n",
    )
    (work / "base.md").write_text(base)
    (work / "head.md").write_text(head)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECML_PAPERS_")}
    env["HF_HUB_OFFLINE"] = "1"
    pip = [str(venv / "bin" / "pip"), "install", "--quiet"]

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    venv_s = time.perf_counter() - start
    torch_s = timed([*pip, "torch==2.13.0"], env)
    package_s = timed([*pip, "-e", str(ROOT)], env)

    cli = str(venv / "bin" / "secml-papers")
    cache = work / "cache"
    env = {**env, "XDG_CACHE_HOME": str(cache), "XDG_DATA_HOME": str(work / "data")}
    check = [cli, "--list", str(work / "base.md"), "check-pr", str(work / "base.md")]
    check += [str(work / "head.md"), "--fail-on", "none"]
    cold_s = timed(check, env)
    warm_s = timed(check, env)

    alone = (
        "import time, sys\n"
        "from pathlib import Path\n"
        "from secml_papers.service.library import Library\n"
        "from secml_papers.service.settings import Settings\n"
        "from secml_papers.service.checkpr import check_pr\n"
        f"w = Path({str(work)!r})\n"
        "lib = Library(Settings(list_source=str(w / 'base.md')))\n"
        "lib.index(); lib.categorizer.model\n"
        "base, head = (w / 'base.md').read_text(), (w / 'head.md').read_text()\n"
        "check_pr(lib, base, head)\n"
        "times = []\n"
        "for _ in range(5):\n"
        "    s = time.perf_counter(); check_pr(lib, base, head)\n"
        "    times.append(time.perf_counter() - s)\n"
        "print(sorted(times)[2])\n"
    )
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", alone], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    alone_s = float(done.stdout.strip().splitlines()[-1])
    install_s = venv_s + torch_s + package_s
    result = {
        "venv_s": round(venv_s, 2),
        "torch_install_s": round(torch_s, 2),
        "package_install_s": round(package_s, 2),
        "install_s": round(install_s, 2),
        "cold_check_s": round(cold_s, 2),
        "warm_check_s": round(warm_s, 2),
        "check_alone_s": round(alone_s, 3),
        "first_comment_s": round(install_s + cold_s, 2),
        "first_comment_cached_s": round(install_s + warm_s, 2),
        "ratio_first_comment_to_check_alone": round((install_s + cold_s) / alone_s, 1),
        "ratio_warm_cli_to_check_alone": round(warm_s / alone_s, 1),
    }
    print(json.dumps(result, indent=1))
    save("first_comment", result)
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
