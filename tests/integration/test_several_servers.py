"""Two hosts behind HAProxy on one PostgreSQL, with two workers: what a guest, a door and an organiser do, through the
balancer, comes out as it does on one server.

Each host is an `events serve` of its own (its own EVENTS_VAR_DIR, no local file shared), in production mode behind
HAProxy from Debian's package (tests/support/cluster.py). Every request is balanced on its own, round robin, so a
guest's requests hop between hosts. PostgreSQL only: skipped without TEST_DATABASE_URL, failed instead in CI
(EVENTS_TEST_REQUIRE_POSTGRES=1). The module's tests share one cluster (module scope: one xdist group).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

from events.config import load_settings
from events.jobs.registry import periodic_jobs
from events.payments.gateway import TestGateway
from tests.support.cluster import ORGANISER_EMAIL, ORGANISER_PASSWORD, Cluster, run_cluster

pytestmark = pytest.mark.postgres_only

T = TypeVar("T")
PARTNER = "cluster-partner"
HOLDS_PER_CLIENT_PER_MINUTE = 5


@pytest.fixture(scope="module")
def cluster(race_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with run_cluster(
        tmp_path_factory.mktemp("cluster"), race_database, hosts=2, EVENTS_HOLDS_PER_CLIENT_PER_MINUTE=str(HOLDS_PER_CLIENT_PER_MINUTE)
    ) as running:
        partner = httpx.post(
            f"{running.url}/api/partners", json={"name": "Cluster Partner", "slug": PARTNER}, headers=running.organiser, verify=running.ssl_context()
        )
        assert partner.status_code == 201, partner.text
        yield running
        assert running.tracebacks() == [], running.logs()


# --- helpers ---------------------------------------------------------------------------------------------------------


def create_event(cluster: Cluster, slug: str, *, capacity: int, starts_in: timedelta = timedelta(days=30), **extra: Any) -> dict[str, Any]:
    starts = (datetime.now(timezone.utc) + starts_in).replace(microsecond=0)
    payload = {
        "slug": slug,
        "title": f"Cluster {slug}",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=3)).isoformat(),
        "capacity": capacity,
        "reserved_free_places": 0,
        "status": "on_sale",
        "ticket_types": [{"name": "General", "price_pence": 1500, "channel": "online", "max_per_order": 4}],
        "beneficiaries": [{"partner": PARTNER, "share_bp": 10000}],
        **extra,
    }
    response = httpx.post(f"{cluster.url}/api/events", json=payload, headers=cluster.organiser, verify=cluster.ssl_context(), timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def order_body(ticket_type: int, guest: int, quantity: int = 1) -> dict[str, Any]:
    return {"buyer": {"name": f"Guest {guest}", "email": f"guest{guest}@example.org"}, "items": [{"ticket_type": ticket_type, "quantity": quantity}]}


async def wait_for(check: Callable[[], Awaitable[T]], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.5)
    return result


async def rows(cluster: Cluster, sql: str, *args: Any) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(cluster.database_url)
    try:
        return [dict(row) for row in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


def served_by(results: list[httpx.Response | BaseException]) -> Counter[str]:
    return Counter(r.headers.get("X-Served-By", "?") for r in results if isinstance(r, httpx.Response))


async def paid_orders(cluster: Cluster, slug: str, guests: range, quantity: int = 1) -> list[dict[str, Any]]:
    """An order per guest, each placed from the guest's own address and paid at (local)Stripe, whose webhook comes back
    through the balancer: the orders as their guests read them once paid."""
    ticket_type = create_or_read_ticket_type(cluster, slug)

    async def buy(guest: int) -> dict[str, Any]:
        async with cluster.client(guest) as http:
            placed = await http.post(f"/api/events/{slug}/orders", json=order_body(ticket_type, guest, quantity))
            assert placed.status_code == 201, placed.text
            created = placed.json()
            assert created["payment"]["provider"] == "stripe", created
            paid = await cluster.localstripe.pay(created["payment"]["payment_intent"])
            assert paid.status_code == 200, paid.text
            bearer = {"Authorization": f"Bearer {created['access_token']}"}

            async def read() -> dict[str, Any] | None:
                order = (await http.get(f"/api/orders/{created['reference']}", headers=bearer)).json()
                return order if order["status"] == "paid" else None

            return await wait_for(read, timeout=60, what=f"order {created['reference']} paid by its webhook")

    return list(await asyncio.gather(*(buy(guest) for guest in guests)))


def create_or_read_ticket_type(cluster: Cluster, slug: str) -> int:
    event = httpx.get(f"{cluster.url}/api/events/{slug}", verify=cluster.ssl_context()).json()
    return int(event["ticket_types"][0]["id"])


def emails_to(cluster: Cluster, address: str) -> list[EmailMessage]:
    return [message for message in cluster.mail.inbox.messages() if message["To"] == address]


# --- the tests -------------------------------------------------------------------------------------------------------


async def test_an_on_sale_rush_sells_every_place_once_across_both_hosts(cluster: Cluster) -> None:
    buyers, places = 200, 40
    event = create_event(cluster, "rush", capacity=places)
    ticket_type = event["ticket_types"][0]["id"]
    before = cluster.requests_per_host()

    async def buyer(n: int, start: asyncio.Event) -> httpx.Response:
        async with cluster.client(guest=n) as http:
            assert (await http.get("/healthz")).status_code == 200  # the connection (and its TLS) is open
            await start.wait()
            return await http.post("/api/events/rush/orders", json=order_body(ticket_type, n))

    start = asyncio.Event()
    tasks = [asyncio.create_task(buyer(n, start)) for n in range(buyers)]
    await asyncio.sleep(1)
    start.set()
    results: list[httpx.Response | BaseException] = list(await asyncio.gather(*tasks, return_exceptions=True))

    outcomes = Counter(
        f"{r.status_code} {r.json().get('error', '')}".strip() if isinstance(r, httpx.Response) else f"{type(r).__name__}: {r}" for r in results
    )
    assert outcomes == {"201": places, "409 sold_out": buyers - places}, (outcomes, cluster.logs())
    # Both hosts sold: the balancer says which answered each buyer, and its statistics count each host's requests.
    sold_by = served_by([r for r in results if isinstance(r, httpx.Response) and r.status_code == 201])
    assert set(served_by(results)) == {host.name for host in cluster.hosts}, served_by(results)
    assert sum(sold_by.values()) == places
    after = cluster.requests_per_host()
    assert all(after[host.name] - before[host.name] >= buyers // 4 for host in cluster.hosts), (before, after)

    [counts] = await rows(cluster, "SELECT capacity, places_taken FROM event WHERE slug = 'rush'")
    orders = await rows(cluster, "SELECT o.reference, o.places, o.status FROM ticket_order o JOIN event e ON e.id = o.event WHERE e.slug = 'rush'")
    [type_taken] = await rows(cluster, "SELECT places_taken FROM ticket_type WHERE id = $1", ticket_type)
    assert counts["places_taken"] == places == type_taken["places_taken"]  # 0 oversold, none lost
    assert len(orders) == places and {o["status"] for o in orders} == {"pending"} and sum(o["places"] for o in orders) == places
    references = {r.json()["reference"] for r in results if isinstance(r, httpx.Response) and r.status_code == 201}
    assert references == {o["reference"] for o in orders}
    for host in cluster.hosts:  # each host answers the same about what is left
        public = httpx.get(f"{host.url}/api/events/rush").json()
        assert public["places_left"] == 0, host.name


async def test_per_client_limits_see_each_guest_through_the_balancer(cluster: Cluster) -> None:
    event = create_event(cluster, "limits", capacity=100)
    ticket_type = event["ticket_types"][0]["id"]
    guest, other_guest = 1000, 1001
    # The limit counts holds per clock minute: start early in one, so that all of them fall in it.
    if (into_minute := time.time() % 60) > 40:
        await asyncio.sleep(60 - into_minute)
    answers = []
    async with cluster.client(guest) as http:
        for n in range(HOLDS_PER_CLIENT_PER_MINUTE + 1):
            # A guest cannot pass as another by forging X-Forwarded-For: the hosts believe only what HAProxy adds.
            forged = {"X-Forwarded-For": f"203.0.113.{n}"} if n % 2 else {}
            answers.append(await http.post("/api/events/limits/orders", json=order_body(ticket_type, 2000 + n), headers=forged))
    # The limit is counted in the database: holds answered by either host count towards it.
    assert [a.status_code for a in answers] == [201] * HOLDS_PER_CLIENT_PER_MINUTE + [429], [a.text for a in answers]
    assert set(served_by(list(answers))) == {host.name for host in cluster.hosts}
    async with cluster.client(other_guest) as http:  # another guest, seen as another client
        assert (await http.post("/api/events/limits/orders", json=order_body(ticket_type, 3000))).status_code == 201


async def test_wrong_tokens_sent_at_once_to_both_hosts_get_at_most_one_answer_more_than_the_budget(cluster: Cluster) -> None:
    """A wrong waiting-list token is counted before its answer goes, and one client's tries take turns in each process,
    so a budget is overshot by at most one try per other process (ratelimit.wrong_tries_limited): here one."""
    budget, tries, processes = 100, 160, len(cluster.hosts)  # waitlist.WRONG_TOKENS_PER_CLIENT; one process a host
    if (into_window := time.time() % (15 * 60)) > 15 * 60 - 30:  # all the tries in one of the budget's windows
        await asyncio.sleep(15 * 60 - into_window)
    async with cluster.client(7000, connections=tries) as http:
        # Every connection opened first (TLS and all), so that the tries reach the hosts as nearly at once as can be.
        assert {r.status_code for r in await asyncio.gather(*(http.get("/healthz") for _ in range(tries)))} == {200}
        answers = await asyncio.gather(*(http.get(f"/api/waiting-list/wrong-guess-{n:04d}") for n in range(tries)))
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) == {404, 429} and budget <= statuses[404] <= budget + processes - 1, statuses
    assert set(served_by(list(answers))) == {host.name for host in cluster.hosts}


async def test_two_phones_scanning_one_ticket_admit_it_once(cluster: Cluster) -> None:
    create_event(cluster, "door", capacity=20)
    [order] = await paid_orders(cluster, "door", range(4000, 4001), quantity=4)
    tickets = order["tickets"]
    assert len(tickets) == 4

    async def phone(n: int, start: asyncio.Event) -> httpx.Response:
        ticket = tickets[n // 2]
        async with cluster.client(headers=cluster.organiser) as http:
            assert (await http.get("/healthz")).status_code == 200
            await start.wait()
            return await http.post("/api/checkin/redeem", json={"event": "door", "secret": ticket["secret"], "nonce": f"cluster-phone-{n}"})

    start = asyncio.Event()
    tasks = [asyncio.create_task(phone(n, start)) for n in range(2 * len(tickets))]
    await asyncio.sleep(0.5)
    start.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert all(isinstance(r, httpx.Response) and r.status_code == 200 for r in results), results
    answers = [r.json() for r in results if isinstance(r, httpx.Response)]
    for n in range(len(tickets)):
        pair = answers[2 * n : 2 * n + 2]
        assert sorted((a["status"], a["reason"]) for a in pair) == [("error", "already_redeemed"), ("ok", None)], pair
    assert set(served_by(list(results))) == {host.name for host in cluster.hosts}
    admitted = await rows(cluster, "SELECT id, checked_in_at FROM ticket WHERE id = ANY($1::int[])", [t["id"] for t in tickets])
    assert all(row["checked_in_at"] is not None for row in admitted) and len(admitted) == len(tickets)
    scans = await rows(cluster, "SELECT status FROM scan WHERE nonce LIKE 'cluster-phone-%'")
    assert Counter(row["status"] for row in scans) == {"ok": len(tickets), "error": len(tickets)}


async def test_guests_racing_for_free_places_get_exactly_the_places_there_are(cluster: Cluster) -> None:
    guests, free_places = 60, 15
    create_event(cluster, "claims", capacity=30, reserved_free_places=free_places)
    async with cluster.client(headers=cluster.organiser) as http:
        link = await http.post("/api/events/claims/claim-codes", json={"partner_name": "Drop-in", "places": guests})
        assert link.status_code == 201, link.text
    code = link.json()["code"]

    async def guest(n: int, start: asyncio.Event) -> httpx.Response:
        async with cluster.client(guest=5000 + n) as http:
            assert (await http.get("/healthz")).status_code == 200
            await start.wait()
            return await http.post("/api/claims", json={"code": code, "name": f"Guest {n}"})

    start = asyncio.Event()
    tasks = [asyncio.create_task(guest(n, start)) for n in range(guests)]
    await asyncio.sleep(0.5)
    start.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    outcomes = Counter(f"{r.status_code} {r.json().get('error', '')}".strip() if isinstance(r, httpx.Response) else repr(r) for r in results)
    assert outcomes == {"201": free_places, "409 no_places_left": guests - free_places}, outcomes
    assert set(served_by(list(results))) == {host.name for host in cluster.hosts}
    [counts] = await rows(
        cluster,
        """SELECT e.free_places_claimed AS counter, c.claimed,
                  (SELECT COUNT(*) FROM ticket t JOIN ticket_order o ON o.id = t.order_id WHERE o.event = e.id) AS tickets
           FROM event e JOIN claim_code c ON c.event = e.id WHERE e.slug = 'claims'""",
    )
    assert counts == {"counter": free_places, "claimed": free_places, "tickets": free_places}


async def test_each_paid_order_is_fulfilled_once_and_emailed_once(cluster: Cluster) -> None:
    create_event(cluster, "webhooks", capacity=50)
    guests = range(6000, 6012)
    orders = await paid_orders(cluster, "webhooks", guests, quantity=2)

    # Every guest opens a ticket at once, on both hosts: the event gets one signing key, not one per host or process.
    async def open_ticket(n: int, start: asyncio.Event) -> httpx.Response:
        async with cluster.client(guest=guests[n]) as http:
            assert (await http.get("/healthz")).status_code == 200
            await start.wait()
            return await http.get(orders[n]["tickets"][0]["url"])

    start = asyncio.Event()
    opening = [asyncio.create_task(open_ticket(n, start)) for n in range(len(orders))]
    await asyncio.sleep(0.5)
    start.set()
    pages = await asyncio.gather(*opening)
    assert [page.status_code for page in pages] == [200] * len(orders)
    keys = await rows(cluster, "SELECT k.key_id FROM event_signing_key k JOIN event e ON e.id = k.event WHERE e.slug = 'webhooks'")
    assert len(keys) == 1, keys
    assert set(served_by(list(pages))) == {host.name for host in cluster.hosts}

    # Stripe delivers an event more than once at times, and to whichever host the balancer picks: send each order's
    # payment_intent.succeeded again, twice at once, through the balancer.
    from tests.support.localstripe import event_payload, sign

    async def deliver_again(order: dict[str, Any]) -> list[int]:
        [payment] = await rows(
            cluster, "SELECT p.provider_reference FROM payment p JOIN ticket_order o ON o.id = p.order_id WHERE o.reference = $1", order["reference"]
        )
        intent = await cluster.localstripe.retrieve_intent(payment["provider_reference"])
        payload = event_payload("payment_intent.succeeded", intent)

        async def post() -> int:
            async with cluster.client() as http:
                headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload)}
                return (await http.post("/webhooks/stripe", content=payload, headers=headers)).status_code

        return list(await asyncio.gather(post(), post()))

    assert all(codes == [200, 200] for codes in await asyncio.gather(*(deliver_again(order) for order in orders)))

    references = [order["reference"] for order in orders]
    facts = await rows(
        cluster,
        """SELECT o.reference, o.status,
                  (SELECT COUNT(*) FROM payment p WHERE p.order_id = o.id) AS payments,
                  (SELECT COUNT(*) FROM ticket t WHERE t.order_id = o.id) AS tickets,
                  (SELECT COUNT(*) FROM outbox_message m WHERE m.order_id = o.id AND m.kind = 'order_confirmation') AS confirmations
           FROM ticket_order o WHERE o.reference = ANY($1::text[]) ORDER BY o.reference""",
        references,
    )
    assert facts == [{"reference": r, "status": "paid", "payments": 1, "tickets": 2, "confirmations": 1} for r in sorted(references)]

    async def all_sent() -> bool:
        queued = await rows(
            cluster,
            """SELECT COUNT(*) AS n FROM outbox_message m JOIN ticket_order o ON o.id = m.order_id
               WHERE o.reference = ANY($1::text[]) AND m.status <> 'sent'""",
            references,
        )
        return queued[0]["n"] == 0 and all(emails_to(cluster, f"guest{guest}@example.org") for guest in guests)

    await wait_for(all_sent, timeout=90, what="the ticket emails")
    await cluster.wait_for_run("drain-email-outbox", after=int(time.time()))  # one more turn: nothing goes again
    assert {guest: len(emails_to(cluster, f"guest{guest}@example.org")) for guest in guests} == dict.fromkeys(guests, 1)


async def test_two_workers_send_one_reminder_per_guest(cluster: Cluster) -> None:
    create_event(cluster, "reminders", capacity=20, starts_in=timedelta(hours=2), reminder_hours_before=24)
    guests = range(7000, 7005)
    orders = await paid_orders(cluster, "reminders", guests)
    references = [order["reference"] for order in orders]

    # The guests booked two days ago, before the reminder moment (24 hours before the start), so each is due one.
    connection = await asyncpg.connect(cluster.database_url)
    try:
        await connection.execute("UPDATE ticket_order SET paid_at = paid_at - interval '2 days' WHERE reference = ANY($1::text[])", references)
    finally:
        await connection.close()

    async def reminders(status: str | None = None) -> list[dict[str, Any]]:
        return await rows(
            cluster,
            """SELECT o.reference, m.status FROM outbox_message m JOIN ticket_order o ON o.id = m.order_id
               WHERE m.kind = 'reminder' AND o.reference = ANY($1::text[]) AND ($2::text IS NULL OR m.status = $2)""",
            references,
            status,
        )

    await cluster.run_job_now("queue-reminders")
    await wait_for(lambda: _count_is(reminders("sent"), len(references)), timeout=90, what="the reminders sent")
    # Again: both workers look, one runs the job, and it finds no guest left to remind.
    moved_on = int(time.time())
    await cluster.run_job_now("queue-reminders")
    await cluster.wait_for_run("queue-reminders", after=moved_on - 1)
    await cluster.wait_for_run("drain-email-outbox", after=int(time.time()))  # and one more turn of the outbox
    assert sorted(r["reference"] for r in await reminders()) == sorted(references)
    for guest in guests:
        received = emails_to(cluster, f"guest{guest}@example.org")
        assert len(received) == 2, [m["Subject"] for m in received]  # the tickets, then one reminder


async def _count_is(query: Awaitable[list[dict[str, Any]]], expected: int) -> bool:
    return len(await query) == expected


async def test_an_organisers_session_works_whichever_host_answers(cluster: Cluster) -> None:
    async with cluster.client(guest=8000) as http:
        login = await http.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
        assert token, login.text
        signed_in = await http.post(
            "/login", data={"email": ORGANISER_EMAIL, "password": ORGANISER_PASSWORD, "next": "/manage", "_csrf_token": token.group(1)}
        )
        assert signed_in.status_code == 303, signed_in.text
        pages = [await http.get("/manage") for _ in range(6)]
        assert [page.status_code for page in pages] == [200] * 6
        assert all("Sign out" in page.text for page in pages)
        assert set(served_by(list(pages))) == {host.name for host in cluster.hosts}
        # A form from a page one host served, sent to the other: the CSRF token and the session hold on both.
        page = await http.get("/manage")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf
        out = await http.post("/logout", data={"_csrf_token": csrf.group(1)})
        assert out.status_code == 303, out.text
        assert out.headers["X-Served-By"] != page.headers["X-Served-By"]
        after = [await http.get("/manage") for _ in range(2)]
        assert all(page.status_code in (302, 303) for page in after), [p.status_code for p in after]
        assert set(served_by(list(after))) == {host.name for host in cluster.hosts}


async def test_a_guest_buys_with_the_form_while_the_hosts_take_turns(cluster: Cluster) -> None:
    """The guest's own path through the pages: the form's CSRF token and the held order's cookie from one host are good
    on the other, and the order page shows the tickets once Stripe's webhook has reached either."""
    event = create_event(cluster, "pages", capacity=10)
    type_id = event["ticket_types"][0]["id"]
    async with cluster.client(guest=9000) as http:
        page = await http.get("/events/pages")
        assert page.status_code == 200, page.text
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf, "the buy form carries a CSRF token"
        form = {f"quantity_{type_id}": "2", "name": "Amal Haddad", "email": "amal.pages@example.org", "_csrf_token": csrf.group(1)}
        to_checkout = await http.post("/events/pages/buy", data=form)
        assert to_checkout.status_code == 303, to_checkout.text
        checkout = await http.get(to_checkout.headers["location"])
        assert checkout.status_code == 200, checkout.text
        intent = re.search(r"(pi_[A-Za-z0-9]+)_secret_", checkout.text)
        assert intent, "the payment page starts a Stripe payment"
        assert (await cluster.localstripe.pay(intent.group(1))).status_code == 200

        async def going() -> httpx.Response | None:
            shown = await http.get(to_checkout.headers["location"], follow_redirects=True)  # paid: on to the order page
            return shown if "You&#39;re going!" in shown.text or "You're going!" in shown.text else None

        confirmation = await wait_for(going, timeout=60, what="the order page to show the tickets")
        assert confirmation.text.count('class="ticket-card') == 2
        pages = [page, to_checkout, checkout, confirmation]
        assert set(served_by(list(pages))) == {host.name for host in cluster.hosts}, served_by(list(pages))


def test_the_hosts_keep_nothing_on_their_own_disks(cluster: Cluster) -> None:
    """Everything a host knows is in the database: each host's EVENTS_VAR_DIR holds its log and nothing else (no
    secret key of its own, no outbox files)."""
    for host in cluster.hosts:
        kept = sorted(path.name for path in host.var_dir.rglob("*"))
        assert all(re.fullmatch(r"server-\d+\.log", name) for name in kept), (host.name, kept)


async def test_every_periodic_job_runs_once_per_interval(cluster: Cluster) -> None:
    """Runs last: the workers have been running all module long. Each job ran, and never twice within its interval,
    on either worker, except just after a test moved its clock on (run_job_now)."""
    settings = load_settings({**cluster.env, "EVENTS_VAR_DIR": str(Path(cluster.hosts[0].var_dir))})
    intervals = {job.name: job.every_seconds for job in periodic_jobs(TestGateway(), settings)}
    shortest = min(intervals.values())

    async def ran_twice() -> bool:
        return all(sum(1 for name, _, _ in cluster.job_runs() if name == job) >= 2 for job, every in intervals.items() if every == shortest)

    await wait_for(ran_twice, timeout=3 * shortest, what=f"the {shortest}-second jobs to run twice")
    runs = cluster.job_runs()
    assert {name for name, _, _ in runs} == set(intervals), cluster.logs()
    for job, every in intervals.items():
        moments = sorted(moment for name, moment, _ in runs if name == job)
        early = cluster.jobs_run_early.get(job, [])
        for earlier, later in itertools.pairwise(moments):
            moved_on = any(earlier <= at <= later for at in early)
            assert later - earlier >= every or moved_on, (job, moments, early)


def test_the_deployment_balancer_configuration_is_valid() -> None:
    """deploy/haproxy.cfg, which docker-compose.yml's `scale` profile mounts, is one HAProxy accepts."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    config = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
    checked = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, check=False, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
