"""torch's thread count for small model calls follows the measured times (index/embedding/threads.py)."""

from __future__ import annotations

from secml_papers.index.embedding.threads import SMALL_CALL, ThreadChooser, candidates


def _serve(chooser: ThreadChooser, texts: int, cost: dict[int, float], calls: int) -> list[int]:
    """``calls`` calls of ``texts`` texts, each taking ``cost[threads]`` seconds."""
    used = []
    for _ in range(calls):
        threads = chooser.choose(texts)
        chooser.record(texts, threads, cost[threads])
        used.append(threads)
    return used


def test_candidates_run_from_one_to_the_default() -> None:
    assert candidates(1) == (1,)
    assert candidates(2) == (1, 2)
    assert candidates(8) == (1, 2, 4, 8)
    assert candidates(6) == (1, 2, 4, 6)


def test_the_faster_count_wins_and_the_other_is_still_tried_now_and_then() -> None:
    chooser = ThreadChooser(2, explore_every=10)
    used = _serve(chooser, 1, {1: 0.013, 2: 0.011}, 100)
    assert chooser.preferred(1) == 2
    assert used.count(2) > 85 and 0 < used.count(1) <= 12


def test_it_moves_when_the_machine_gets_busy() -> None:
    chooser = ThreadChooser(2, explore_every=5)
    _serve(chooser, 1, {1: 0.013, 2: 0.011}, 50)
    assert chooser.preferred(1) == 2
    used = _serve(chooser, 1, {1: 0.013, 2: 0.400}, 100)  # another process holds a core
    assert chooser.preferred(1) == 1
    assert used[-50:].count(1) >= 47  # 2 threads, 30x slower now, tried once in 20 calls
    _serve(chooser, 1, {1: 0.013, 2: 0.011}, 200)  # the machine is quiet again
    assert chooser.preferred(1) == 2


def test_sizes_are_judged_apart_and_large_calls_keep_the_default() -> None:
    chooser = ThreadChooser(2, explore_every=10)
    _serve(chooser, 1, {1: 0.013, 2: 0.300}, 30)
    _serve(chooser, 8, {1: 0.035, 2: 0.027}, 30)
    assert chooser.preferred(1) == 1 and chooser.preferred(8) == 2
    assert chooser.preferred(3) is None  # 3-4 texts: not measured yet
    assert {chooser.choose(SMALL_CALL + 1) for _ in range(30)} == {2}


def test_one_core_means_one_thread() -> None:
    chooser = ThreadChooser(1)
    assert {chooser.choose(n) for n in (1, 4, 64)} == {1}
