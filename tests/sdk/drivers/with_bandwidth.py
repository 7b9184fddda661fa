"""bandwidth-sdk: ``MessagesApi.create_message(account_id, MessageRequest)``."""

from __future__ import annotations

from typing import Any

import bandwidth
from bandwidth import rest

HOST = "https://messaging.bandwidth.com/api/v2"  # hard-wired in MessagesApi


def send(job: dict[str, Any]) -> str:
    config = job["config"]
    original = rest.RESTClientObject.request

    def to_loopback(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return original(self, method, url.replace(HOST, job["base_url"] + "/api/v2"), *args, **kwargs)

    rest.RESTClientObject.request = to_loopback
    configuration = bandwidth.Configuration(username=config["username"], password=config["password"])
    api = bandwidth.MessagesApi(bandwidth.ApiClient(configuration))
    request = bandwidth.MessageRequest(
        application_id=config["application_id"],
        to=[job["to"]] if isinstance(job["to"], str) else job["to"],
        var_from=job["sender"],
        text=job["text"],
    )
    return str(api.create_message(config["account_id"], request).id)
