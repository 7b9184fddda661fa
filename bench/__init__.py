"""Benchmark of Fusion Worker against stock rq (issue 6): ``make bench`` / ``python -m bench.run``.

Everything runs on loopback: a private redis-server (:mod:`bench.redis_server`), a fake provider
with a fixed latency in its own process (:mod:`bench.fake_provider`), and the workers as
subprocesses (:mod:`bench.worker_proc`). :mod:`bench.scenarios` measures, :mod:`bench.report`
prints the table; results go to ``bench/results/latest.json``.
"""
