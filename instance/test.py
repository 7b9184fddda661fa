"""Settings for the test suite: tests override REDIS_URL and the URLs of their local servers."""

REDIS_URL = "redis://127.0.0.1:6379/15"
FUSION_SERVER = ""
DRY_RUN = False
WEBHOOK_WHITELIST = r"^http://(127\.0\.0\.1|localhost)(:\d+)?/"
CLAIM_LEASE = 10
RECOVERY_INTERVAL = 1.0
RETRY_BACKOFF_BASE = 1.0
OUTBOX_BACKOFF_BASE = 0.05
OUTBOX_POLL = 0.2
LOG_LEVEL = "DEBUG"
#: The webhook tests talk to local servers; the SSRF tests override this with [].
WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
