"""Deployment settings: the module named by ``CRELIO_DEPLOYMENT_MODE``, then the zone's values.

``python run_worker.py worker -c instance`` reads the UPPERCASE names defined here.
Environment variables of the same names override them (see ``config.py``).
"""

import importlib
import os

from instance.zones import ZONES

CRELIO_DEPLOYMENT_MODE = os.environ.get("CRELIO_DEPLOYMENT_MODE", "LOCAL").upper()
CRELIO_DEPLOYMENT_ZONE = os.environ.get("CRELIO_DEPLOYMENT_ZONE", "IN").upper()

_MODULES = {"LOCAL": "instance.local", "PRODUCTION": "instance.production", "TEST": "instance.test"}

if CRELIO_DEPLOYMENT_MODE not in _MODULES:
    raise ImportError(f"CRELIO_DEPLOYMENT_MODE: must be one of {', '.join(_MODULES)}, got {CRELIO_DEPLOYMENT_MODE!r}")
if CRELIO_DEPLOYMENT_ZONE not in ZONES:
    raise ImportError(f"CRELIO_DEPLOYMENT_ZONE: must be one of {', '.join(ZONES)}, got {CRELIO_DEPLOYMENT_ZONE!r}")

_mode = importlib.import_module(_MODULES[CRELIO_DEPLOYMENT_MODE])
globals().update({k: v for k, v in vars(_mode).items() if k.isupper()})
globals().update(ZONES[CRELIO_DEPLOYMENT_ZONE].get(CRELIO_DEPLOYMENT_MODE, {}))
