"""The clients and list edits of bench/performance/soak.py: a mixed workload on kept-alive
connections that honours ``Retry-After``, the generated list, and a maintainer's edits.

Every request is recorded as ``(started s, operation, status, seconds)``; status -1 is a
transport error (no answer). A 429 is sent again after its ``Retry-After`` as a real client
would (each attempt is recorded).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import httpx

from bench.common.datasets import _entry, distinct_papers, markdown_list

# What readers, reviewers and maintainers ask, in shares of the requests: mostly searches,
# the page's "related" links (a fifth of them by free text, which runs the model), a few
# categorisations, and now and then a pull-request check of the whole list: at most one
# every ``Workload.checkpr_every`` seconds (CI on a busy list), since it sends 2 x 1.8 MB.
MIX = (("search", 0.7), ("related", 0.2), ("categorize", 0.08), ("check-pr", 0.02))
OPS = [op for op, _ in MIX]


def generated_list(entries: int) -> str:
    """``entries`` entries: the data set's papers (titles only) repeated under numbered
    titles, one link each, in its categories' sections (as perf_memory.py's big list)."""
    papers = distinct_papers()
    rows = [
        {**papers[i % len(papers)], "pdf_url": f"https://e.org/{i}"}
        | {"title": f"{papers[i % len(papers)]['title']} (part {i})"}
        for i in range(entries)
    ]
    return markdown_list(rows, min_per_section=1)


def edit_list(path: Path, cycle: int, previous: list[str]) -> dict:
    """A maintainer's edit: 3 entries added (under the first three sections), the venue of 2
    listed entries changed, and one entry of the previous edit retitled. Returns what the
    reload should report and the new titles (for the probe and the next edit)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    papers = distinct_papers()
    rng = random.Random(cycle)
    added = []
    for i, section in enumerate([j for j, line in enumerate(lines) if line.startswith("### ")][:3]):
        p = papers[rng.randrange(len(papers))]
        title = f"{p['title']} (revision {cycle}.{i})"
        title = title.replace('"', "'").replace("[", "(").replace("]", ")")  # as _entry writes
        added.append((section, {**p, "title": title, "pdf_url": f"https://e.org/r{cycle}-{i}"}))
    for section, p in reversed(added):  # bottom up: earlier indexes stay right
        lines[section + 2 : section + 2] = [_entry(p)]
    listed = [i for i, line in enumerate(lines) if "(part " in line and " @ **" in line]
    for i in (listed[rng.randrange(len(listed))] for _ in range(2)):
        head, _, _ = lines[i].rpartition(" @ **")
        lines[i] = f"{head} @ **Soak Venue {cycle} 2025**."
    retitled = 0
    if previous:
        old = previous[0]
        for i, line in enumerate(lines):
            if f'"{old}"' in line:
                lines[i] = line.replace(f'"{old}"', f'"{old} (retitled)"')
                retitled = 1
                break
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    titles = [p["title"] for _, p in added]
    return {"titles": titles, "expect_added": 3 + retitled, "expect_removed": retitled}


class Workload:
    """The requests of all clients, the current list text (check-pr's BASE), the stop time."""

    def __init__(
        self, list_text: str, ids: list[str], start: float, think: float, checkpr_every: float
    ) -> None:
        self.ids, self.start, self.think = ids, start, think
        self.checkpr_every, self.next_checkpr = checkpr_every, 0.0
        self.stop_at = float("inf")
        self.rows: list[tuple[float, str, int, float]] = []
        self.errors: list[str] = []
        self.papers = distinct_papers()
        self.set_base(list_text)

    def set_base(self, text: str) -> None:
        """check-pr's BASE from now on: the list as the maintainer last edited it."""
        self.base = text
        self.sections = [i for i, line in enumerate(text.splitlines()) if line[:4] == "### "]

    def now(self) -> float:
        return time.perf_counter() - self.start

    def request(self, http: httpx.AsyncClient, rng: random.Random, op: str):
        paper = self.papers[rng.randrange(len(self.papers))]
        if op == "search":
            words = str(paper.get("tldr") or paper["title"]).split()
            return http.get("/search", params={"q": " ".join(words[: rng.randint(3, 10)])})
        if op == "related":
            if rng.random() < 0.8:
                return http.get(f"/papers/{rng.choice(self.ids)}/related", params={"k": 10})
            return http.post("/related", json={"title": str(paper["title"]) + " revisited"})
        if op == "categorize":
            body = {"title": f"{paper['title']}: a follow-up"}
            if rng.random() < 0.5 and paper.get("abstract"):
                body["abstract"] = str(paper["abstract"])[:2000]
            return http.post("/categorize", json=body)
        return http.post("/check-pr", json={"base": self.base, "head": self.head(rng)})

    def head(self, rng: random.Random) -> str:
        """BASE with 1-3 data-set papers added at the top of sections, titles made new."""
        lines = self.base.splitlines()
        for at in sorted(rng.sample(self.sections, rng.randint(1, 3)), reverse=True):
            p = self.papers[rng.randrange(len(self.papers))]
            title = f"{p['title']}: extended version {rng.randrange(10**6)}"
            lines[at + 2 : at + 2] = [_entry({**p, "title": title})]
        return "\n".join(lines) + "\n"

    async def client(self, http: httpx.AsyncClient, seed: int) -> None:
        rng = random.Random(seed)
        weights = [w for _, w in MIX]
        while self.now() < self.stop_at:
            op = rng.choices(OPS, weights)[0]
            while op == "check-pr" and self.now() < self.next_checkpr:
                op = rng.choices(OPS, weights)[0]  # not due yet: something else
            if op == "check-pr":
                self.next_checkpr = self.now() + self.checkpr_every
            while self.now() < self.stop_at:
                started = self.now()
                try:
                    answer = await self.request(http, rng, op)
                    status = answer.status_code
                except httpx.HTTPError as err:
                    answer, status = None, -1
                    self.errors.append(f"{op}: {err!r}")
                self.rows.append((started, op, status, self.now() - started))
                if answer is not None and status not in (200, 429):
                    self.errors.append(f"{op}: {status} {answer.text[:200]}")
                if status != 429 or answer is None:
                    break
                # at least Retry-After, with jitter, as clients should: 20 clients refused
                # together do not all come back in the same instant
                wait = float(answer.headers.get("retry-after", "1"))
                await asyncio.sleep(wait + rng.uniform(0.25, 1.0))
            if self.think:
                await asyncio.sleep(rng.expovariate(1 / self.think))
