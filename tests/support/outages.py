"""Outside services failing for a while, for the outage tests (issue #20 §4): a fault-injecting proxy in front of
localstripe, a holding place for Stripe's webhooks while they cannot get through, an SMTP server that can be stopped,
started again on the same port, or made to stall, and `events worker` processes.

The proxy and the relay run on an event loop of their own in a thread, so a test's blocking calls (subprocesses,
sync httpx) never stall the server processes' requests to them."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import httpx
from aiohttp import web
from aiosmtpd.controller import Controller

from tests.integration.tickets.test_email import Inbox
from tests.support.server import free_port

T = TypeVar("T")

# Headers a proxy must not pass on (RFC 9110 §7.6.1), and those aiohttp sets again for the body it sends.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"})


class _LoopThread:
    """An asyncio loop in a daemon thread; ``run`` runs a coroutine on it from the test's side and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class StripeFault(StrEnum):
    passing = "pass"  # every request goes on to localstripe and its answer comes back
    refusing = "refuse"  # nothing listens on the port (and a connection left open is cut): "could not connect"
    failing = "500"  # Stripe answers every request with a 500 api_error
    silent = "silent"  # connections are taken but never answered (packets lost on the way): the client times out
    failing_writes = "500-on-post"  # reads answered, every POST (create, cancel, refund) answered with a 500


class StripeProxy:
    """The app's STRIPE_API_BASE: passes requests to localstripe, or fails them as a Stripe outage would.
    ``seen`` counts the requests that arrived, by fault; ``paths`` lists their paths and queries, in order."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.fault = StripeFault.passing
        self.seen: dict[StripeFault, int] = dict.fromkeys(StripeFault, 0)
        self.paths: list[str] = []
        self._loop = _LoopThread()
        self._site: web.TCPSite | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._outage_over = asyncio.Event()
        self._loop.run(self._start())

    async def _start(self) -> None:
        self._outage_over = asyncio.Event()  # made on the proxy's own loop
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._session = aiohttp.ClientSession(auto_decompress=False)
        await self._listen()

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen[self.fault] += 1
        self.paths.append(request.rel_url.raw_path_qs)
        if self.fault == StripeFault.refusing:
            # A keep-alive connection made before the outage: cut it, as a dead network would.
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError
        if self.fault == StripeFault.silent:
            # Until the client gives up, or the outage ends: then the connection is cut, never answered.
            await self._outage_over.wait()
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError
        if self.fault == StripeFault.failing or (self.fault == StripeFault.failing_writes and request.method == "POST"):
            body = {"error": {"type": "api_error", "message": "An unknown error occurred (injected by the outage test's proxy)."}}
            return web.json_response(body, status=500, headers={"Request-Id": "req_outage"})
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method, self.upstream + request.rel_url.raw_path_qs, headers=headers, data=await request.read()
        ) as answer:
            body_bytes = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=answer.status, body=body_bytes, headers=kept)

    def set_fault(self, fault: StripeFault) -> None:
        self._loop.run(self._set_fault(fault))

    async def _set_fault(self, fault: StripeFault) -> None:
        listening = self._site is not None
        self.fault = fault
        self._outage_over.set()  # requests left hanging by a silent Stripe are cut
        self._outage_over = asyncio.Event()
        if fault == StripeFault.refusing and listening:
            assert self._site is not None
            await self._site.stop()
            self._site = None
        elif fault != StripeFault.refusing and not listening:
            await self._listen()

    def close(self) -> None:
        async def stop() -> None:
            self._outage_over.set()
            if self._session is not None:
                await self._session.close()
            if self._runner is not None:
                await self._runner.cleanup()

        self._loop.run(stop())
        self._loop.stop()


@dataclasses.dataclass(frozen=True)
class HeldWebhook:
    """One delivery of a Stripe event, as localstripe made it: body and Stripe-Signature header."""

    event_type: str
    body: bytes
    signature: str

    async def deliver(self, http: httpx.AsyncClient) -> httpx.Response:
        return await http.post(
            "/webhooks/stripe", content=self.body, headers={"Content-Type": "application/json", "Stripe-Signature": self.signature}
        )


class WebhookRelay:
    """Where localstripe sends its webhooks in an outage test: each is kept, for the test to deliver when (and as
    often as) Stripe would retry it after the outage. localstripe itself never retries a delivery."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks"
        self.held: list[HeldWebhook] = []
        self._loop = _LoopThread()
        self._runner: web.AppRunner | None = None
        self._loop.run(self._start())

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks", self._keep)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def _keep(self, request: web.Request) -> web.Response:
        body = await request.read()
        event_type = (await request.json()).get("type", "")
        self.held.append(HeldWebhook(event_type, body, request.headers.get("Stripe-Signature", "")))
        return web.json_response({"received": True})

    def about(self, intent_id: str, event_type: str = "payment_intent.succeeded") -> list[HeldWebhook]:
        return [w for w in self.held if w.event_type == event_type and intent_id.encode() in w.body]

    def close(self) -> None:
        if self._runner is not None:
            self._loop.run(self._runner.cleanup())
        self._loop.stop()


@contextlib.contextmanager
def stripe_outage_kit(upstream: str) -> Iterator[tuple[StripeProxy, WebhookRelay]]:
    proxy, relay = StripeProxy(upstream), WebhookRelay()
    try:
        yield proxy, relay
    finally:
        proxy.close()
        relay.close()


class StallingInbox(Inbox):
    """An SMTP server's inbox that, while ``stall_seconds`` is set, takes that long to accept each message (a slow
    content filter): a client that hangs up meanwhile has its message dropped, as the conversation never ended."""

    def __init__(self) -> None:
        super().__init__()
        self.stall_seconds = 0.0
        self.stalled = 0  # messages that were kept waiting

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall_seconds:
            self.stalled += 1
            await asyncio.sleep(self.stall_seconds)  # cancelled by aiosmtpd if the client hangs up
        return await super().handle_DATA(server, session, envelope)


class SwitchableMailServer:
    """aiosmtpd on one fixed loopback port, which a test stops (connections refused) and starts again."""

    def __init__(self) -> None:
        self.inbox = StallingInbox()
        self.port = free_port()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        assert self._controller is None
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def environment(self) -> dict[str, str]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "SMTP_STARTTLS": "false", "SMTP_FROM": "Events <tickets@events.test>"}


@contextlib.contextmanager
def running_workers(env: dict[str, str], count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` `events worker` processes on ``env``'s database, each logging to a file in its var dir."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for number in range(count):
            log = Path(env["EVENTS_VAR_DIR"]) / f"worker-{number}.log"
            with log.open("wb") as out:
                processes.append(subprocess.Popen([sys.executable, "-m", "events", "worker"], env=env, stdout=out, stderr=subprocess.STDOUT))
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
