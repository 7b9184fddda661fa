"""The declarative definition of an SMS gateway, and what one send carries in and out.

A gateway is data: where to send, how to authenticate, what each parameter is called, how numbers
are written and how the answer says "accepted". :mod:`tasks.gateways.engine` runs every definition;
a gateway whose body is nested gets a ``body`` builder, one that is not plain HTTP (AWS SNS, SMPP)
gets a ``transport``, and the user-configured ``http`` gateway a ``delegate``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from errors import FusionError

if TYPE_CHECKING:
    from rq_ext.sansio import Plan

#: Number formats: ``+919876543210``, ``919876543210``, ``9876543210``.
E164, PLAIN, NATIONAL = "e164", "plain", "national"
#: Request encodings: JSON body, form body, or everything in the query string.
JSON, FORM, QUERY = "json", "form", "query"

#: Error texts that mean "try again later" whatever the gateway.
RETRYABLE_TEXT = (
    r"(?i)queue\s*(is\s*)?full|too\s*many\s*requests|throughput|rate\s*limit|throttl|try\s*(again\s*)?later"
    r"|temporar|server\s*busy|system\s*busy|timed?\s*out|service\s*unavailable"
)
#: Error texts that mean "this number is wrong".
RECIPIENT_TEXT = (
    r"(?i)invalid[\s_-]*(mobile|phone|number|receiver|recipient|destination|msisdn|to\b|dst)"
    r"|(number|mobile|recipient)s?\s*(is|are)?\s*(invalid|not\s*valid)|not\s*a\s*valid\s*(mobile|phone)?\s*number"
)


@dataclass(frozen=True, kw_only=True)
class Each:
    """How the per-recipient list of an answer is read: one item per number, each judged on its own."""

    #: Dotted path of the list (``data.messages``; ``""``: the answer itself is the list).
    items: str
    #: Field of the number in each item (any format: digits are compared). An item without it is
    #: matched by position only when one number was sent and one item came back.
    number: str = "to"
    #: Field that must hold one of ``values`` (any non-empty value when ``values`` is empty).
    ok: str = "status"
    values: tuple[str, ...] = ()
    #: Field of the provider's message id (None: the answer's own ``Success.id``).
    id: str | None = None
    #: Fields of the provider's per-message status and code, and of its description (in a reason).
    code: tuple[str, ...] = ("status",)
    error: tuple[str, ...] = ()
    #: Status or code values that are transient, and those that mean "this number is invalid".
    retry: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Success:
    """How an answer is read: accepted only when the provider says so."""

    #: HTTP status codes of an accepted answer.
    status: tuple[int, ...] = (200, 201, 202)
    #: Dotted JSON path (``response.status.code``, ``messages.0.status``) that must hold one of ``values``
    #: (or, when ``values`` is empty, anything non-empty).
    field: str | None = None
    values: tuple[str, ...] = ()
    #: JSON keys whose presence (non-empty) means failure (``error``, ``errorCode``).
    absent: tuple[str, ...] = ()
    #: Regular expression the text body must match; a group named ``id`` is the message id.
    text: str | None = None
    #: Dotted JSON path of the provider's message id.
    id: str | None = None
    #: Where the provider's own error message is (first non-empty wins).
    error: tuple[str, ...] = ("message", "error.message", "error", "errors.0.message", "errors.0")
    #: Dotted JSON path of the provider's error code, and the codes that are transient.
    code: str | None = None
    retry: tuple[str, ...] = ()
    #: Codes that mean "this number is invalid" (Twilio 21211).
    invalid: tuple[str, ...] = ()
    #: The per-recipient rule, for a provider that reports each number's status.
    each: Each | None = None
    #: Dotted path of a list of the numbers the provider refused as invalid (Plivo ``invalid_number``).
    refused: str | None = None


@dataclass(frozen=True)
class Refusal:
    """One number the provider refused: its status or code, and the classified error (the reason
    names the gateway, the masked number and the provider's code)."""

    code: str
    error: FusionError


@dataclass(frozen=True)
class Sent:
    """What one request achieved, number by number (numbers as written for the gateway)."""

    accepted: dict[str, str] = field(default_factory=dict)
    refused: dict[str, Refusal] = field(default_factory=dict)

    @classmethod
    def all(cls, numbers: tuple[str, ...], message_id: str) -> Sent:
        """Every number accepted under one id (an answer with one verdict for the request)."""
        return cls(accepted=dict.fromkeys(numbers, message_id))


@dataclass(frozen=True)
class Outbound:
    """One request's worth of SMS: numbers already in the gateway's format."""

    numbers: tuple[str, ...]
    text: str
    sender: str | None
    unicode: bool
    template_id: str | None
    config: Mapping[str, Any]
    #: The URL comes from job data: it passes the SSRF guard and the request is pinned.
    guard_url: bool = True
    #: The client reference a gateway with ``Gateway.reference`` sends: the job's id (None
    #: outside a worker).
    reference: str | None = None


#: Builds a nested JSON body (``body``) or sends by other means (``transport``, blocking: a plan
#: runs it as a :class:`~rq_ext.sansio.Call`): the message id for every number, or a :class:`Sent`
#: number by number. A ``delegate`` sends through another definition, as a plan
#: (:mod:`rq_ext.sansio`): the ``http`` gateway, whose definition is built from its config.
BodyBuilder = Callable[["Gateway", Outbound], dict[str, Any] | list[Any]]
Transport = Callable[["Gateway", Outbound], "str | Sent"]
Delegate = Callable[["Gateway", Outbound], "Plan[Sent]"]


#: A unicode flag's value.
Flag = str | int | bool


@dataclass(frozen=True, kw_only=True)
class Gateway:
    """A declarative SMS gateway definition."""

    name: str
    title: str
    region: str
    url: str
    #: Appended to ``url`` (or the config's ``base_url``); ``{key}`` placeholders come from the config
    #: (and ``{to}`` from the number for one-number-per-request gateways).
    path: str = ""
    method: str = "POST"
    encoding: str = FORM
    #: Credentials sent as parameters: request parameter -> config key.
    credentials: dict[str, str] = field(default_factory=dict)
    #: Headers: name -> template with ``{config_key}`` placeholders (``"App {api_key}"``).
    headers: dict[str, str] = field(default_factory=dict)
    #: Config keys of HTTP Basic user and password.
    basic: tuple[str, str] | None = None
    #: Parameter names of sender, recipients and text (sender omitted when None or empty).
    sender: str | None = "sender"
    to: str = "to"
    message: str = "message"
    number_format: str = PLAIN
    #: How several numbers share one request; None: one request per number.
    joiner: str | None = ","
    #: Numbers as a JSON list instead of a joined string.
    to_list: bool = False
    #: India DLT parameter names: principal entity id (config ``dlt_entity_id``) and content template id.
    dlt_entity: str | None = None
    dlt_template: str | None = None
    #: (parameter, value for GSM-7 or None to omit, value for UCS-2), each in the provider's own type:
    #: a string (``"1"``), a number (``8``) or a JSON boolean (``True``).
    unicode: tuple[str, Flag | None, Flag] | None = None
    #: Fixed parameters sent every time.
    static: dict[str, Any] = field(default_factory=dict)
    #: Optional parameters taken from the config when present: request parameter -> config key.
    options: dict[str, str] = field(default_factory=dict)
    #: The parameter of the provider's client reference (idempotency key / echoed reference):
    #: it carries the job id, so the provider can recognise a second send of the same job.
    reference: str | None = None
    #: Config keys that must be present.
    required: tuple[str, ...] = ()
    #: Alternative sets of credentials (an API token, or a user name and password): one set must be
    #: complete. Credentials of the other sets are sent only when present.
    required_any: tuple[tuple[str, ...], ...] = ()
    #: Headers sent only when the config has every key they name (a token that is one of the
    #: ``required_any`` alternatives): name -> template.
    optional_headers: dict[str, str] = field(default_factory=dict)
    success: Success = Success()
    body: BodyBuilder | None = None
    transport: Transport | None = None
    delegate: Delegate | None = None
    #: H = request and success check seen in code; M = provider docs / consistent samples; L = verify.
    confidence: str = "M"
    source: str = ""

    @property
    def custom(self) -> bool:
        """True when code sends it (a ``transport`` or a ``delegate``), not one declared request."""
        return self.transport is not None or self.delegate is not None

    @property
    def batches_numbers(self) -> bool:
        """True when several numbers go in one request."""
        return self.joiner is not None or self.to_list
