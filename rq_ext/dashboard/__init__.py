"""``run_worker.py dashboard``: a web UI and JSON API over the worker's Redis keys.

Modules here import Flask only in ``app``/``auth``/``pages``; the readers (``reads``,
``workers``, ``failed``, ``outbox``, ``jobs``) use Redis alone, so ``rq_ext.doctor`` and
maintenance can use them without the web framework.
"""
