"""Settings for a developer's machine. Starts with no secret set; DRY_RUN is on."""

REDIS_URL = "redis://127.0.0.1:6379/0"
FUSION_SERVER = ""
DRY_RUN = True
WEBHOOK_WHITELIST = r"^https?://"
LOG_LEVEL = "INFO"
