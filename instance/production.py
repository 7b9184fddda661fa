"""Production settings. Secrets (REDIS_URL with a password, SENTRY_DSN, provider keys) come
from the environment, never from this file."""

DRY_RUN = False
WEBHOOK_WHITELIST = r"^https://"
MAINTENANCE_INTERVAL = 24 * 3600
FAILED_JOB_TTL = 7 * 24 * 3600
LOG_LEVEL = "INFO"
