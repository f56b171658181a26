"""Where the soak's memory goes: soak.py's run with a probe inside the server.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/performance/soak_memory.py --duration 600 \\
        --reload-every 100                   # a shortened soak, the probe every 5 s
    ... --tracemalloc                        # also Python's allocations by line (slower)

The server is ``secml-papers serve`` started by this script's child mode, which first starts
a thread that every ``--probe-every`` seconds writes one JSON line: the resident memory split
into anonymous and file-backed pages, the threads (native, and Python's by name), glibc's
``mallinfo2`` (bytes in use, free in the arenas, mmapped), pymalloc's arenas
(``sys._debugmallocstats``), the Python objects of the types a reload replaces still alive
(by weak reference, taken as ``Library.reload`` drops them) and, every minute, the counts of
Python objects by type. So growth can be put down to (a) Python objects kept across reloads,
(b) memory glibc or pymalloc hold free, or (c) threads. The clients, edits and reloads are
soak.py's (its ``Soak``); the soak's own verdicts are printed but this is not the soak's
result: nothing is written to soak.json. Results: ``$SECML_BENCH_OUT/soak-memory.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import os
import sys
import tempfile
import threading
import time
import weakref
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for bench.common

PROBE_ENV = "SOAK_MEMORY_PROBE"


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _mallinfo() -> dict:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    mb = 1e6
    return {
        "malloc_used_mb": round(info.uordblks / mb, 1),
        "malloc_free_mb": round(info.fordblks / mb, 1),
        "malloc_mmapped_mb": round(info.hblkhd / mb, 1),
        "malloc_arena_mb": round(info.arena / mb, 1),
    }


def _status() -> dict:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile", "Threads", "VmHWM"):
            parts = value.split()
            fields[name] = int(parts[0]) / 1e3 if name != "Threads" else int(parts[0])
    return {
        "rss_mb": fields.get("VmRSS"),
        "anon_mb": fields.get("RssAnon"),
        "file_mb": fields.get("RssFile"),
        "hwm_mb": fields.get("VmHWM"),
        "threads": fields.get("Threads"),
    }


def _pymalloc() -> dict:
    """pymalloc's arenas and the bytes in their blocks, from ``sys._debugmallocstats`` (which
    writes to the C stderr: redirected to a file for the moment it takes)."""
    with tempfile.TemporaryFile() as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip().replace(",", "")
        if key == "# arenas allocated current":
            found["pymalloc_arenas"] = int(value)
        elif key == "# bytes in allocated blocks":
            found["pymalloc_used_mb"] = round(int(value) / 1e6, 1)
        elif key == "Total":
            found["pymalloc_total_mb"] = round(int(value) / 1e6, 1)
    return found


class Probe:
    """The server side: samples written as JSON lines to the file named by PROBE_ENV."""

    def __init__(self, path: Path, every: float, trace: bool) -> None:
        self.path, self.every, self.trace = path, every, trace
        self.dropped: list[tuple[str, weakref.ref]] = []
        self.baseline = None
        self.reloads = 0

    def watch_reloads(self) -> None:
        from secml_papers.service.library import Library

        original = Library.reload
        probe = self

        def reload(library, progress=None):
            old = library._served
            refs = []
            if old is not None:
                refs = [("Served", weakref.ref(old)), ("PaperIndex", weakref.ref(old.index))]
                if old.categorizer is not None:
                    refs.append(("Categorizer", weakref.ref(old.categorizer)))
            del old
            report = original(library, progress)
            probe.reloads += 1
            probe.dropped += [(f"{name} before reload {probe.reloads}", r) for name, r in refs]
            if probe.trace and probe.reloads == 1:
                import tracemalloc

                probe.baseline = tracemalloc.take_snapshot()
            return report

        Library.reload = reload

    def sample(self, start: float, counts: bool) -> dict:
        row = {"t": round(time.monotonic() - start, 1), "reloads": self.reloads}
        row |= _status() | _mallinfo() | _pymalloc()
        row["py_blocks"] = sys.getallocatedblocks()
        row["py_threads"] = dict(
            Counter(t.name.rstrip("0123456789_-") for t in threading.enumerate())
        )
        alive = [name for name, ref in self.dropped if ref() is not None]
        row["alive_after_reload"] = alive
        if counts:
            objects = gc.get_objects()
            row["types"] = dict(Counter(type(o).__name__ for o in objects).most_common(25))
            del objects
        if self.trace and self.baseline is not None and counts:
            import tracemalloc

            now = tracemalloc.take_snapshot()
            top = now.compare_to(self.baseline, "lineno")[:15]
            row["traced_mb"] = round(tracemalloc.get_traced_memory()[0] / 1e6, 1)
            row["growth_since_reload_1"] = [
                f"{s.size_diff / 1e6:+.1f} MB {s.count_diff:+d} {s.traceback}" for s in top
            ]
        return row

    def run(self) -> None:
        start, last_counts = time.monotonic(), -1e9
        while True:
            counts = time.monotonic() - last_counts >= 60
            if counts:
                last_counts = time.monotonic()
            row = self.sample(start, counts)
            with self.path.open("a") as out:
                out.write(json.dumps(row) + "\n")
            time.sleep(self.every)


def serve_child(argv: list[str]) -> None:
    """``secml-papers serve`` with the probe started first."""
    every = float(os.environ.get("SOAK_MEMORY_EVERY", "5"))
    trace = os.environ.get("SOAK_MEMORY_TRACE") == "1"
    if trace:
        import tracemalloc

        tracemalloc.start(1)
    probe = Probe(Path(os.environ[PROBE_ENV]), every, trace)
    probe.watch_reloads()
    threading.Thread(target=probe.run, name="memory-probe", daemon=True).start()
    from secml_papers.service.cli import main

    sys.argv = ["secml-papers", *argv]
    main()


def run(args: argparse.Namespace) -> int:
    from bench.common.processes import stop_process
    from bench.common.results import RESULTS, save
    from bench.performance.soak import Soak
    from bench.performance.soak_summary import summary

    work = RESULTS / "soak-memory"
    work.mkdir(parents=True, exist_ok=True)
    probe_file = work / "probe.jsonl"
    probe_file.unlink(missing_ok=True)

    class Probed(Soak):
        def start(self, log: Path):
            self.env = self.env | {
                PROBE_ENV: str(probe_file),
                "SOAK_MEMORY_EVERY": str(args.probe_every),
                "SOAK_MEMORY_TRACE": "1" if args.tracemalloc else "0",
            }
            saved = Soak.start.__globals__["CLI"]
            Soak.start.__globals__["CLI"] = f"{sys.executable}"
            try:
                with _serve_as_child():
                    return super().start(log)
            finally:
                Soak.start.__globals__["CLI"] = saved

    args.fake = False
    args.sample_every = args.sample_every or min(5.0, args.duration / 360)
    soak = Probed(args, work)
    built = soak.build()
    print(f"{args.entries} entries, built in {built['seconds']} s", flush=True)
    server, url = soak.start(work / "serve.log")
    try:
        load = asyncio.run(soak.drive(url, server.pid))
    finally:
        stop_process(server, timeout=30)
    result = summary(args, load, soak.events, soak.samples)
    probe = [json.loads(line) for line in probe_file.read_text().splitlines()]
    out = {
        "duration_s": args.duration,
        "reload_every_s": args.reload_every,
        "soak_verdicts": result["verdicts"],
        "rss_ref_mb": result["rss_ref_mb"],
        "rss_end_mb": result["rss_end_mb"],
        "rss_peak_mb": result["rss_peak_mb"],
        "load1_mean": result["load1_mean"],
        "error_samples": result.get("error_samples"),
        "events": soak.events,
        "probe": probe,
    }
    save("soak-memory", out)
    show(probe, result)
    return 0


@contextlib.contextmanager
def _serve_as_child():
    """soak.py's ``start`` runs ``[CLI, "serve", ...]``: CLI is this Python, so the command is
    turned into ``python soak_memory.py --serve-child serve ...`` by a Popen wrapper."""
    import subprocess

    original = subprocess.Popen

    def popen(command, *a, **k):
        if command[:2] == [sys.executable, "serve"]:
            command = [sys.executable, __file__, "--serve-child", *command[1:]]
        return original(command, *a, **k)

    subprocess.Popen = popen
    try:
        yield
    finally:
        subprocess.Popen = original


def show(probe: list[dict], result: dict) -> None:
    keys = (
        "t", "reloads", "rss_mb", "anon_mb", "file_mb", "threads", "malloc_used_mb",
        "malloc_free_mb", "malloc_mmapped_mb", "pymalloc_arenas", "pymalloc_used_mb",
        "pymalloc_total_mb", "py_blocks",
    )  # fmt: skip
    print(" ".join(f"{k:>10}" for k in keys))
    step = max(1, len(probe) // 40)
    for row in probe[::step] + probe[-1:]:
        print(" ".join(f"{row.get(k, ''):>10}" for k in keys))
    last = probe[-1]
    print("alive after their reload:", last["alive_after_reload"] or "none")
    print("threads by name:", last["py_threads"])
    typed = [r for r in probe if "types" in r]
    if len(typed) >= 2:
        first, end = typed[1], typed[-1]
        diff = {k: end["types"].get(k, 0) - first["types"].get(k, 0) for k in end["types"]}
        print("objects by type, change from the 2nd count to the last:", diff)
    for row in reversed(probe):
        if "growth_since_reload_1" in row:
            print(f"traced {row['traced_mb']} MB; growth since the first reload:")
            print("\n".join(row["growth_since_reload_1"]))
            break
    print(
        f"soak figures: RSS {result['rss_ref_mb']} -> {result['rss_end_mb']} MB, "
        f"peak {result['rss_peak_mb']}, verdicts {result['verdicts']}"
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-child":
        serve_child(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--reload-every", type=float, default=100.0, help="seconds")
    parser.add_argument("--think", type=float, default=0.2, help="mean pause, seconds")
    parser.add_argument("--sample-every", type=float, help="seconds (default: duration/360)")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument("--probe-every", type=float, default=5.0, help="seconds")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python allocations")
    args = parser.parse_args()
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
