"""The explicit registry of WhatsApp providers."""

from __future__ import annotations

from errors import ConfigurationError
from rq_ext import contract
from tasks.gateways.spec import E164, FORM, Success
from tasks.whatsapp_providers import bodies, vendors
from tasks.whatsapp_providers.spec import Provider

_META_OK = {
    "*": Success(
        field="messages.0.id",
        id="messages.0.id",
        error=("error.message",),
        code="error.code",
        retry=("4", "80007", "130429", "131048", "131056"),
    )
}
_TWILIO_OK = {
    "*": Success(
        status=(200, 201),
        field="status",
        values=("accepted", "queued", "sending", "sent"),
        id="sid",
        code="code",
        retry=("20429", "21611", "30001"),
    )
}
_INFOBIP_ERROR = ("requestError.serviceException.text", "messages.0.status.description", "status.description")
_PENDING = ("PENDING", "ACCEPTED", "DELIVERED")

PROVIDERS: list[Provider] = [
    Provider(
        name="meta",
        title="Meta WhatsApp Cloud API",
        region="global",
        url="https://graph.facebook.com",
        paths={"*": "/{api_version}/{phone_number_id}/messages"},
        headers={"Authorization": "Bearer {access_token}"},
        required=("phone_number_id", "access_token"),
        defaults={"api_version": "v21.0"},
        build=bodies.meta,
        success=_META_OK,
        confidence="H",
        source="apprise whatsapp.py; novu whatsapp-business; developers.facebook.com",
    ),
    Provider(
        name="dialog360",
        title="360dialog (Cloud API BSP)",
        region="global",
        url="https://waba-v2.360dialog.io",
        paths={"*": "/messages"},
        headers={"D360-API-KEY": "{api_key}"},
        required=("api_key",),
        build=bodies.meta,
        success=_META_OK,
        confidence="M",
        source="docs.360dialog.com document and send-a-message",
    ),
    Provider(
        name="gupshup",
        title="Gupshup WhatsApp (self-serve API)",
        region="IN",
        url="https://api.gupshup.io",
        paths={"template": "/wa/api/v1/template/msg", "*": "/wa/api/v1/msg"},
        encoding=FORM,
        headers={"apikey": "{api_key}"},
        required=("api_key", "source", "app_name"),
        build=bodies.gupshup,
        success={"*": Success(field="status", values=("submitted",), id="messageId")},
        confidence="M (template) / L (session file message)",
        source="docs.gupshup.io template-messages",
    ),
    Provider(
        name="twilio",
        title="Twilio WhatsApp",
        region="global",
        url="https://api.twilio.com",
        paths={"*": "/2010-04-01/Accounts/{account_sid}/Messages.json"},
        encoding=FORM,
        basic=("account_sid", "auth_token"),
        required=("account_sid", "auth_token"),
        number_format=E164,
        build=bodies.twilio,
        success=_TWILIO_OK,
        confidence="H",
        source="sdk: twilio==9.13.0 (tests/sdk: template, document); apprise twilio.py; twilio.com/docs/content-api",
    ),
    Provider(
        name="interakt",
        title="Interakt",
        region="IN",
        url="https://api.interakt.ai",
        paths={"*": "/v1/public/message/"},
        headers={"Authorization": "Basic {api_key}"},
        required=("api_key",),
        number_format=E164,
        build=vendors.interakt,
        success={"*": Success(field="result", values=("true",), id="id")},
        confidence="M (template) / L (document, base64 of the key)",
        source="public sample code (consistent)",
    ),
    Provider(
        name="wati",
        title="Wati (sendTemplateMessage v2)",
        region="IN",
        url="",
        paths={"template": "/api/v2/sendTemplateMessage?whatsappNumber={to}"},
        headers={"Authorization": "Bearer {api_token}"},
        required=("base_url", "api_token"),
        build=vendors.wati,
        kinds=("template",),
        success={
            "*": Success(
                field="result",
                values=("true",),
                absent=("error", "receivers.0.errors"),
                id="receivers.0.localMessageId",
                error=("error", "info", "receivers.0.errors"),
            )
        },
        confidence="M",
        source="support.wati.io webhooks article (v2 request and answer); base_url = tenant URL",
    ),
    Provider(
        name="infobip",
        title="Infobip WhatsApp",
        region="global",
        url="https://api.infobip.com",
        paths={
            "template": "/whatsapp/1/message/template",
            "text": "/whatsapp/1/message/text",
            "document": "/whatsapp/1/message/document",
        },
        headers={"Authorization": "App {api_key}"},
        required=("api_key", "sender"),
        build=vendors.infobip,
        success={
            "template": Success(
                field="messages.0.status.groupName", values=_PENDING, id="messages.0.messageId", error=_INFOBIP_ERROR
            ),
            "*": Success(field="status.groupName", values=_PENDING, id="messageId", error=_INFOBIP_ERROR),
        },
        confidence="H (request) / M (groupName values)",
        source="sdk: infobip-api-python-sdk==5.0.1 (tests/sdk: template, text, document); infobip docs",
    ),
    Provider(
        name="msg91",
        title="MSG91 WhatsApp (bulk outbound)",
        region="IN",
        url="https://api.msg91.com",
        paths={"template": "/api/v5/whatsapp/whatsapp-outbound-message/bulk/"},
        headers={"authkey": "{auth_key}"},
        required=("auth_key", "sender"),
        build=vendors.msg91,
        kinds=("template",),
        success={"*": Success(field="status", values=("success",), id="request_id", error=("errors", "message"))},
        confidence="M (request) / L (document header)",
        source="public sample code (JS/PHP/Python, consistent)",
    ),
    Provider(
        name="karix",
        title="Karix WhatsApp (RCM)",
        region="IN",
        url="https://rcmapi.instaalerts.zone",
        paths={"template": "/services/rcm/sendMessage"},
        headers={"Authentication": "Bearer {api_token}"},
        required=("api_token", "sender"),
        build=vendors.karix,
        kinds=("template",),
        success={"*": Success(absent=("error",), field="mid", id="mid", error=("error.message", "statusDesc"))},
        confidence="H (request) / L (answer, default host)",
        source="nammayatri Whatsapp/Karix",
    ),
]

PROVIDERS_BY_NAME: dict[str, Provider] = {provider.name: provider for provider in PROVIDERS}
contract.KNOWN_GATEWAYS.update(PROVIDERS_BY_NAME)  # metric and log labels take only registered names
assert len(PROVIDERS_BY_NAME) == len(PROVIDERS), "duplicate WhatsApp provider name"


def get(name: str) -> Provider:
    """The provider registered as ``name``, or :class:`ConfigurationError`."""
    provider = PROVIDERS_BY_NAME.get(str(name).strip().lower())
    if provider is None:
        raise ConfigurationError(f"unknown WhatsApp provider {name!r}")
    return provider
