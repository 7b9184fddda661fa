"""Entry point: ``python run_worker.py worker -c instance --customq all`` (see ``--help``)."""

import sys

from rq_ext.cli import main

if __name__ == "__main__":
    sys.exit(main())
