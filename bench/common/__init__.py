"""What several benchmark scripts share; no benchmark here.

* ``paths``: the checkout, its docs/ and the data set beside it;
* ``datasets``: the OWASP data set's papers, as papers and as Markdown lists;
* ``lists``: the benchmark lists of the quality scripts (bench/data/make_lists.py);
* ``embed_cache``: embeddings cached on disk by model and texts;
* ``measure``: medians, percentiles, RSS, timing, cProfile hot spots, targets;
* ``results``: where the speed benchmarks write (``$SECML_BENCH_OUT``) and the code measured;
* ``processes``: ``secml-papers`` subprocesses (CLI environment, a served list, fresh Pythons);
* ``serving``: the served data-set list and the HTTP load client of the query benchmarks.
"""
