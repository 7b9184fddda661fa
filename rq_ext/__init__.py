"""Fusion Worker's extensions of rq: a priority (sorted-set) queue, a job with the server's extra
fields, and workers that claim atomically, retry through the server and call back.

Producer API: :func:`rq_ext.producer.enqueue` (re-exported here as ``rq_ext.enqueue``).
"""

from rq_ext.producer import enqueue

__all__ = ["enqueue"]
