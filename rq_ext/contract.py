"""The job contract in one place: every Redis key and key prefix, the extra hash fields, and
the channel codes. Lua scripts get their prefixes from here (as ARGV or substituted at load)."""

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
#: The outbox: callbacks and ``/retryTask/`` hand-overs, written in the same atomic step as the
#: outcome that creates them and delivered by a sender in every worker process.
#: Entry id -> the entry as JSON.
OUTBOX_ENTRIES = "fusion:outbox:entries"
#: Entry id -> when it may next be tried (epoch seconds); a sender leases an entry by moving
#: its score past the lease, so a sender that dies only delays it.
OUTBOX_DUE = "fusion:outbox:due"
#: Entries given up (newest first, capped at OUTBOX_DEAD_CAP), as JSON with the last error.
OUTBOX_DEAD = "fusion:outbox:dead"
OUTBOX_DEAD_CAP = 1000
#: Cluster-wide counters (callbacks given up, ...): one Redis hash.
STATS = "fusion:stats"
#: The delivery ledger of a job: ``fusion:delivered:<job id>`` (what providers accepted).
LEDGER_PREFIX = "fusion:delivered:"
#: Push provider tokens shared by the worker processes: ``fusion:push:token:<kind>:<fingerprint>``
#: (the APNs JWT, the FCM access token; secrets) and ``...:lock`` while one is minted.
PUSH_TOKEN_PREFIX = "fusion:push:token:"
#: rq's own keys the worker writes.
WIP_PREFIX = "rq:wip:"
FAILED_PREFIX = "rq:failed:"
FINISHED_PREFIX = "rq:finished:"
RESULTS_PREFIX = "rq:results:"
EXECUTIONS_PREFIX = "rq:executions:"
WORKERS_SET = "rq:workers"
WORKER_PREFIX = "rq:worker:"
#: rq's registries of a queue: ``<prefix><queue name>``.
REGISTRY_PREFIXES = (WIP_PREFIX, FAILED_PREFIX, FINISHED_PREFIX, "rq:scheduled:", "rq:deferred:", "rq:canceled:")
#: The dashboard's per-minute time buckets: ``fusion:timeline:<epoch minute>``.
TIMELINE_PREFIX = "fusion:timeline:"

#: Circuit breakers, one per gateway account and channel (written by the channels, read by
#: ``info``, the dashboard and the metrics through :mod:`rq_ext.breakers`): a hash
#: ``fusion:breaker:<channel>:<gateway>:<account label>`` (fields in ``rq_ext.breakers.FIELDS``).
BREAKER_PREFIX = "fusion:breaker:"
#: The breakers that tripped recently: breaker key -> when its state last changed (epoch ms).
BREAKERS = "fusion:breakers"
#: Fields of ``STATS`` counting trips and skipped attempts: ``<prefix><channel>:<gateway>``.
BREAKER_TRIPS_STAT = "breaker_trips:"
BREAKER_SKIPS_STAT = "breaker_skips:"

#: Extra fields of the job hash (defaults apply when absent).
RETRY_COUNT = "retryCount"
SUCCESS_HANDLER = "success_task_handler"
FAILED_HANDLER = "failed_task_handler"
PRIORITY = "priority"
RECOVERIES = "recoveries"

#: Channel codes carried in ``task["payload"]["task"]``, and their names (log and metric labels).
SMS, EMAIL, PUSH, WEBHOOK, WHATSAPP = 1, 2, 3, 4, 5
CHANNEL_NAMES = {SMS: "sms", EMAIL: "email", PUSH: "push", WEBHOOK: "webhook", WHATSAPP: "whatsapp"}


def channel_name(code: object) -> str:
    """The channel a payload's ``task`` code names (an int or its digits), else ``other``."""
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    return CHANNEL_NAMES.get(code, "other") if isinstance(code, int) and not isinstance(code, bool) else "other"


#: Gateway and provider names the channels register when they load (metric and log labels take
#: only these; any other name a payload gives becomes ``other``).
KNOWN_GATEWAYS: set[str] = set()


def queue_key(name: str) -> str:
    return QUEUE_PREFIX + name


def breaker_key(channel: str, gateway: str, label: str) -> str:
    """The breaker hash of one gateway account on one channel."""
    return f"{BREAKER_PREFIX}{channel}:{gateway}:{label}"


def wake_key(queue_name: str) -> str:
    return WAKE_PREFIX + queue_name


def job_key(job_id: str) -> str:
    return JOB_PREFIX + job_id


def text(raw: object) -> str:
    """A Redis reply as text; a missing value (None) as the empty string."""
    if raw is None:
        return ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
