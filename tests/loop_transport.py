"""Driving a sans-I/O plan on an event loop of its own, as the event-loop worker drives it (its
HTTP client, ``native`` or ``aiohttp``; the batched ledger writer), for tests that compare the
transports."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from config import get_settings
from rq_ext.aio import Drivers, LedgerWriter, drive
from rq_ext.connection import async_twin
from rq_ext.sansio import Plan
from wrappers.loop_http import open_transport


def run_on_loop(steps: Plan[Any], connection: Any = None, http: str = "native") -> Any:
    """The plan's return value, its effects done by the event-loop drivers."""

    async def go() -> Any:
        transport = open_transport(http, 8)
        client = async_twin(connection) if connection is not None else None
        writer = LedgerWriter(client, get_settings())
        with ThreadPoolExecutor(2) as pool:
            drivers = Drivers(transport, writer, pool, client)
            try:
                return await drive(steps, drivers)
            finally:
                await drivers.close()
                if client is not None:
                    await client.aclose()

    return asyncio.run(go())
