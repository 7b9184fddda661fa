"""Zone-specific values, by ``CRELIO_DEPLOYMENT_ZONE`` and then by deployment mode.

Only non-secret values belong here: hosts, regions, queue lists. Secrets come from the environment.
"""

from typing import Any

ZONES: dict[str, dict[str, dict[str, Any]]] = {
    "IN": {
        "PRODUCTION": {"FUSION_SERVER": "https://fusion.in.creliohealth.example", "AWS_REGION": "ap-south-1"},
        "LOCAL": {"AWS_REGION": "ap-south-1"},
        "TEST": {"AWS_REGION": "ap-south-1"},
    },
    "US": {
        "PRODUCTION": {"FUSION_SERVER": "https://fusion.us.creliohealth.example", "AWS_REGION": "us-east-1"},
        "LOCAL": {"AWS_REGION": "us-east-1"},
        "TEST": {"AWS_REGION": "us-east-1"},
    },
    "AE": {
        "PRODUCTION": {"FUSION_SERVER": "https://fusion.ae.creliohealth.example", "AWS_REGION": "me-central-1"},
        "LOCAL": {"AWS_REGION": "me-central-1"},
        "TEST": {"AWS_REGION": "me-central-1"},
    },
}
