"""Redis key names of the job contract and of the worker's own bookkeeping."""

QUEUE_PREFIX = "rq:queue:"
JOB_PREFIX = "rq:job:"
QUEUES_SET = "rq:queues"

#: The FIFO list queue (RPUSH by producers, LPOP by workers).
SCHEDULER_QUEUE = "scheduler"
#: Delayed jobs: ZADD rq:queue:schedulerSet <due epoch seconds> <id>.
SCHEDULER_SET = QUEUE_PREFIX + "schedulerSet"

#: Claims in hand: job id -> lease expiry (epoch seconds). Renewed while the job runs.
CLAIMS = "fusion:claims"
#: Jobs handed to the server's /retryTask/: job id -> time handed over.
AWAITING_RETRY = "fusion:awaiting_retry"
#: Wake-up tokens: producers RPUSH one per job; idle workers BLPOP them instead of polling.
WAKE_PREFIX = "fusion:wake:"
#: Most tokens kept per queue (a worker busy for long finds at most this many stale ones).
WAKE_CAP = 64
MAINTENANCE_LOCK = "fusion:maintenance:lock"
MAINTENANCE_LAST = "fusion:maintenance:last"
LEGACY_FAILED_QUEUE = "rq:queue:failed"

#: Extra fields of the job hash (defaults apply when absent).
RETRY_COUNT = "retryCount"
SUCCESS_HANDLER = "success_task_handler"
FAILED_HANDLER = "failed_task_handler"
PRIORITY = "priority"
RECOVERIES = "recoveries"


def queue_key(name: str) -> str:
    return QUEUE_PREFIX + name


def wake_key(queue_name: str) -> str:
    return WAKE_PREFIX + queue_name


def job_key(job_id: str) -> str:
    return JOB_PREFIX + job_id


def text(raw: object) -> str:
    """A Redis reply as text; a missing value (None) as the empty string."""
    if raw is None:
        return ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
