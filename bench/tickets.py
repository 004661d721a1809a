"""Ticket PDF speed: `.venv/bin/python bench/tickets.py` prints one JSON object.

No database: TicketView objects are built directly, each with its own secret and a code signed with a
fresh Ed25519 key (events.tickets.signing), so every render draws a new QR code as production does.
The process is pinned to one CPU where the OS allows it. Target: >= 200 single-ticket PDFs a second.

Rates are renders per second of this process's CPU time (time.process_time), which is what one core
can do; on a busy machine wall-clock rates are lower and noisier, so they are reported alongside.

    single_ticket_pdfs_per_second     the slowest of the cases below (CPU time)
    ..._by_case                       A4 and phone, Latin and Arabic holder names, each over N renders; an
                                      order in Arabic (the ticket's own words in Arabic, right to left)
    seconds_for_500_ticket_order_pdf  one PDF holding 500 tickets (A4, English), CPU and wall time
    ..._by_language                   the same order in each guest language (CPU)
    pdf_bytes                         sizes of single-ticket PDFs and of the 500-ticket PDF
    first_render_seconds              the first render in the process (loads and registers the fonts)
    peak_memory_mib                   tracemalloc's peak during the 500-ticket render; the process's max RSS
    breakdown_cpu_ms_per_ticket       of an A4 render: the qrcode package encoding a new code, and the rest
    cpu_calibration_ms                CPU time of a fixed pure-Python loop, before and after the renders: on a
                                      shared machine the same work can take twice the CPU time (other
                                      processes on the same physical cores), so compare runs only when
                                      these agree, or scale by them
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import secrets
import sys
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from events.catalogue.service import organisation_ref
from events.orders.codes import new_order_reference
from events.tickets.secrets import new_ticket_secret
from events.tickets.signing import TicketClaims, sign_ticket
from events.tickets.views import VALIDITY_MARGIN, TicketView

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 8, 20, 19, 0, tzinfo=LONDON)
KEY = Ed25519PrivateKey.generate()
KEY_ID = secrets.token_hex(6)

LATIN_NAMES = ["Amal Haddad", "Sara Ahmadi", "Tom O'Neill", "Grace Mensah-Bonsu", "Zoë Kowalczyk"]
ARABIC_NAMES = ["ليلى حداد", "سارا احمدی", "مریم رضایی", "Amal حداد"]


def ticket(number: int, holder: str, reference: str) -> TicketView:
    secret = new_ticket_secret()
    ticket_id = 10_000 + number
    claims = TicketClaims(
        key_id=KEY_ID,
        ticket_id=ticket_id,
        version=1,
        event_id=42,
        ticket_type_id=7,
        secret=secret,
        valid_from=int((START - VALIDITY_MARGIN).timestamp()),
        valid_until=int((START + timedelta(hours=3, minutes=30) + VALIDITY_MARGIN).timestamp()),
    )
    return TicketView(
        id=ticket_id,
        secret=secret,
        page_secret=secret[::-1],
        version=1,
        status="valid",
        holder=holder,
        type_name="Supper",
        ticket_type_id=7,
        order_reference=reference,
        event_id=42,
        event_slug="august-supper-club",
        event_title="August Supper Club",
        venue="St Margaret's Community Hall",
        address="12 Example Road, London E8 1AA",
        starts_at=START,
        ends_at=START + timedelta(hours=3, minutes=30),
        timezone="Europe/London",
        code=sign_ticket(claims, KEY),
        organisation_id=1,
        organisation=organisation_ref("refugee-kitchen", "Refugee Kitchen", ""),
    )


def random_arabic_names(count: int) -> list[str]:
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهويپچژگکی"
    rng = random.Random(1)
    return [" ".join("".join(rng.choice(letters) for _ in range(rng.randint(3, 7))) for _ in range(2)) for _ in range(count)]


def tickets(count: int, names: list[str], start: int = 0) -> list[TicketView]:
    return [ticket(start + i, names[i % len(names)], new_order_reference()) for i in range(count)]


def per_second(views: list[TicketView], page_size: str, locale: str = "en") -> dict[str, float]:
    from events.tickets.pdf import render_tickets_pdf

    cpu, wall = time.process_time(), time.perf_counter()
    for view in views:
        render_tickets_pdf([view], page_size=page_size, locale=locale)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"cpu": round(len(views) / cpu, 1), "wall": round(len(views) / wall, 1)}


def calibration_ms() -> float:
    """CPU milliseconds of a fixed pure-Python loop (a yardstick for how fast this core is right now)."""
    began = time.process_time()
    total = 0
    for i in range(1_000_000):
        total += i * i % 7
    return round((time.process_time() - began) * 1000, 1)


def breakdown(views: list[TicketView]) -> dict[str, float]:
    """CPU ms per ticket of the qrcode package encoding each (new) code, and of everything else in a render."""
    from events.tickets.pdf import render_tickets_pdf
    from events.tickets.qr import qr_symbol

    encode = rest = 0.0
    for view in views:  # one at a time: the cache keeps the latest symbols (tickets.qr.SYMBOLS_KEPT), not all of them
        began = time.process_time()
        qr_symbol(view.code)
        encode += time.process_time() - began
        began = time.process_time()
        render_tickets_pdf([view])  # its symbol is cached now: this is the rest of the work
        rest += time.process_time() - began
    return {"qr_encode": round(encode / len(views) * 1000, 2), "rest_of_render": round(rest / len(views) * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=500, help="single-ticket renders per measurement (default 500)")
    parser.add_argument("--order-size", type=int, default=500, help="tickets in the order PDF (default 500)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    from events.tickets.pdf import render_tickets_pdf

    calibration_before = calibration_ms()
    began = time.perf_counter()
    first = render_tickets_pdf(tickets(1, LATIN_NAMES, start=900_000))
    first_render = time.perf_counter() - began

    # Warm up the per-event caches and the subset cache the way a running server would have them.
    for view in tickets(20, LATIN_NAMES + ARABIC_NAMES, start=800_000):
        render_tickets_pdf([view])
        render_tickets_pdf([view], page_size="phone")
        render_tickets_pdf([view], locale="ar")

    n = args.renders
    results = {
        "a4_latin_name": per_second(tickets(n, LATIN_NAMES), "a4"),
        "phone_latin_name": per_second(tickets(n, LATIN_NAMES, start=n), "phone"),
        "a4_arabic_name": per_second(tickets(n, ARABIC_NAMES, start=2 * n), "a4"),
        "phone_arabic_name": per_second(tickets(n, ARABIC_NAMES, start=3 * n), "phone"),
        # Worst case for the font cache: every holder a different Arabic name, so most subsets are new.
        "a4_every_arabic_name_new": per_second(tickets(n, random_arabic_names(n), start=6 * n), "a4"),
        "a4_order_in_arabic": per_second(tickets(n, LATIN_NAMES + ARABIC_NAMES, start=8 * n), "a4", locale="ar"),
    }
    split = breakdown(tickets(n, LATIN_NAMES, start=7 * n))
    single = render_tickets_pdf(tickets(1, LATIN_NAMES, start=4 * n))
    single_phone = render_tickets_pdf(tickets(1, LATIN_NAMES, start=4 * n + 1), page_size="phone")
    single_arabic = render_tickets_pdf(tickets(1, ARABIC_NAMES, start=4 * n + 2))

    order = tickets(args.order_size, LATIN_NAMES + ARABIC_NAMES, start=5 * n)
    cpu, wall = time.process_time(), time.perf_counter()
    order_pdf = render_tickets_pdf(order)
    order_cpu, order_wall = time.process_time() - cpu, time.perf_counter() - wall
    by_language = {}
    for index, locale in enumerate(("en", "ar", "fa", "fr")):
        fresh = tickets(args.order_size, LATIN_NAMES + ARABIC_NAMES, start=(10 + index) * max(n, args.order_size))  # new codes to encode
        cpu = time.process_time()
        render_tickets_pdf(fresh, locale=locale)
        by_language[locale] = round(time.process_time() - cpu, 3)
    # Again under tracemalloc (which slows it down) for the memory peak of building one big PDF.
    tracemalloc.start()
    render_tickets_pdf(order)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # ru_maxrss is KiB on Linux, bytes on macOS.
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    calibration_after = calibration_ms()

    report = {
        "single_ticket_pdfs_per_second": min(rate["cpu"] for rate in results.values()),
        "single_ticket_pdfs_per_second_by_case": results,
        "renders_per_case": n,
        f"seconds_for_{args.order_size}_ticket_order_pdf": round(order_cpu, 3),
        f"seconds_for_{args.order_size}_ticket_order_pdf_wall": round(order_wall, 3),
        f"seconds_for_{args.order_size}_ticket_order_pdf_by_language": by_language,
        "pdf_bytes": {
            "single_a4": len(single),
            "single_phone": len(single_phone),
            "single_a4_arabic_name": len(single_arabic),
            f"order_{args.order_size}_tickets_a4": len(order_pdf),
        },
        "first_render_seconds": round(first_render, 3),
        "peak_memory_mib": {
            f"tracemalloc_peak_during_{args.order_size}_ticket_order": round(traced_peak / 2**20, 1),
            "process_max_rss": round(max_rss, 1),
        },
        "breakdown_cpu_ms_per_ticket": split,
        "cpu_calibration_ms": {"before": calibration_before, "after": calibration_after},
        "target_single_ticket_pdfs_per_second": 200,
        "target_met": min(rate["cpu"] for rate in results.values()) >= 200,
        "load_average": [round(load, 1) for load in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "cpu_pinned": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    assert first.startswith(b"%PDF")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
