"""Lighthouse on a phone over every guest page: `.venv/bin/python bench/lighthouse.py` prints one JSON object.

It serves the demo as `make run` does (a fresh SQLite database in a temporary directory, migrated and seeded with
`events demo`, no Stripe key, so checkout uses the built-in test payment), places and pays an order and makes a claim
link so the checkout, order, ticket and claim pages exist, then runs Lighthouse 12.2.3 (npm, pinned in
bench/lighthouse/package.json; `make lighthouse` installs it, or this script runs `npm ci` when it is missing) with
the system's Chromium, once per page, in Lighthouse's default mobile set-up (a Moto G Power sized screen, simulated
slow 4G and a 4x slower CPU).

    pages[]                  per page: name, path (tokens and codes are left out), the four category scores
                             (0-100), the audits that lost points in the three target categories, and first paint,
                             largest paint, blocking time and layout shift
    target                   Performance >= 95, Accessibility 100, Best Practices 100 on every page
    met                      whether every page meets it; `misses` names those that do not

Options: `--pages NAME,...` (only these), `--reports DIR` (also write each page's full Lighthouse JSON there, to
open in https://googlechrome.github.io/lighthouse/viewer/). The exit status is 1 when a page cannot be measured;
missing the target alone does not fail the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE_DIR = ROOT / "bench" / "lighthouse"
LIGHTHOUSE_CLI = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGET = {"performance": 95, "accessibility": 100, "best-practices": 100}
METRICS = {
    "first-contentful-paint": "first_contentful_paint_ms",
    "largest-contentful-paint": "largest_contentful_paint_ms",
    "total-blocking-time": "total_blocking_time_ms",
    "cumulative-layout-shift": "cumulative_layout_shift",
}
SLUG = "choose-love-night"  # seeded by `events demo`
SUPPER = "august-supper-club"  # seeded by `events demo`: free places, pay it forward
ORGANISER = "organiser@example.org"  # the demo's organiser


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def events_command(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "events", *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"events {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def demo_environment(var_dir: Path) -> dict[str, str]:
    """The environment `make run` gives the demo, on a database of this run's own and without Stripe or SMTP."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EVENTS_", "STRIPE_", "SMTP_", "DATABASE_URL"))}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{var_dir / 'lighthouse.sqlite3'}",
            "EVENTS_VAR_DIR": str(var_dir),
            "EVENTS_ENV": "development",
            "EVENTS_RUN_WORKER_IN_PROCESS": "false",
        }
    )
    return env


def start_server(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as server_log:
        process = subprocess.Popen(
            [sys.executable, "-m", "events", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stopping it stops what it started, and nothing else
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server stopped:\n{log_path.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"The server did not start:\n{log_path.read_text()}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def local(url: str) -> str:
    """A URL's path and query: the server's links may name its configured base URL rather than this port."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def guest_pages(base_url: str, organiser_token: str) -> list[tuple[str, str, str]]:
    """(name, URL path, path as reported) for every guest page: the public pages, then an order's checkout, order and
    ticket pages and a claim link's pages, made through the API and the test payment as a guest would."""
    pages = [
        ("event-list", "/", "/"),
        ("event-page", f"/events/{SLUG}", f"/events/{SLUG}"),
        ("event-page-supper", f"/events/{SUPPER}", f"/events/{SUPPER}"),
        ("event-page-arabic", f"/events/{SUPPER}?lang=ar", f"/events/{SUPPER}?lang=ar"),
        ("organisation-page", "/organisations/refugee-welcome", "/organisations/refugee-welcome"),
        ("series-page", "/series/supper-club", "/series/supper-club"),
        ("login", "/login", "/login"),
        ("forgot-password", "/forgot-password", "/forgot-password"),
    ]
    with httpx.Client(base_url=base_url, timeout=60) as http:
        event = http.get(f"/api/events/{SUPPER}").json()
        paid_type = next(t for t in event["ticket_types"] if t["price_pence"] > 0)
        order = http.post(
            f"/api/events/{SUPPER}/orders",
            json={"buyer": {"name": "Amal Haddad", "email": "amal@example.org"}, "items": [{"ticket_type": paid_type["id"], "quantity": 2}]},
        )
        order.raise_for_status()
        created = order.json()
        checkout_path = local(created["payment"]["url"])
        pages.append(("checkout", checkout_path, "/orders/{reference}/pay"))
        # A second order, paid with the test payment, for the order and ticket pages.
        second = http.post(
            f"/api/events/{SUPPER}/orders",
            json={"buyer": {"name": "Sara Ahmadi", "email": "sara@example.org"}, "items": [{"ticket_type": paid_type["id"], "quantity": 2}]},
        ).json()
        page = http.get(local(second["payment"]["url"]))
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        if csrf is None:
            raise RuntimeError("The checkout page has no test payment form")
        paid = http.post(f"/orders/{second['reference']}/test-payment", data={"token": second["access_token"], "_csrf_token": csrf.group(1)})
        order_path = local(paid.headers["location"])
        pages.append(("order", order_path, "/orders/{reference}"))
        order_html = http.get(order_path).text
        ticket = re.search(r'href="(/tickets/[^"/?]+)"', order_html)
        if ticket is None:
            raise RuntimeError("The order page links no ticket")
        pages.append(("ticket", ticket.group(1), "/tickets/{secret}"))
        holder = re.search(r'href="(/orders/[^"]+/holder\?token=[^"]+)"', order_html)
        if holder is None:
            raise RuntimeError("The order page offers no change of a ticket's name")
        pages.append(("ticket-name", holder.group(1).replace("&amp;", "&"), "/orders/{reference}/tickets/{id}/holder"))
        # The embeddable ticket form, as the frame on a charity's page loads it.
        pages.append(("widget", f"/embed/events/{SLUG}?lang=fr", "/embed/events/{slug}"))
        claim = http.post(
            f"/api/events/{SUPPER}/claim-codes",
            json={"partner_name": "Refugee Women's Group", "places": 3},
            headers={"Authorization": f"Bearer {organiser_token}"},
        )
        claim.raise_for_status()
        code = claim.json()["code"]
        pages.append(("claim", f"/claim/{code}", "/claim/{code}"))
        pages.append(("claim-places", f"/claim/{code}/places", "/claim/{code}/places"))
    return pages


def ensure_lighthouse() -> None:
    if LIGHTHOUSE_CLI.is_file():
        return
    log("Installing Lighthouse (npm ci --prefix bench/lighthouse)")
    subprocess.run(
        ["npm", "ci", "--prefix", str(LIGHTHOUSE_DIR), "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        check=True,
        stdout=sys.stderr,
    )


def chromium() -> str:
    path = os.environ.get("CHROME_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError("Lighthouse needs Chromium: apt-get install chromium (or set CHROME_PATH)")
    return path


def lighthouse(url: str, chrome: str, profile: Path) -> dict[str, Any]:
    """Lighthouse's report for one page: default (mobile) settings, a fresh Chromium profile."""
    result = subprocess.run(
        [
            "node",
            str(LIGHTHOUSE_CLI),
            url,
            "--output=json",
            "--output-path=stdout",
            "--quiet",
            f"--only-categories={','.join(CATEGORIES)}",
            f"--chrome-flags=--headless=new --no-sandbox --disable-gpu --user-data-dir={profile}",
        ],
        env={**os.environ, "CHROME_PATH": chrome},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"Lighthouse failed on {url}:\n{result.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def summary(name: str, shown_path: str, report: dict[str, Any]) -> dict[str, Any]:
    scores = {key: round(category["score"] * 100) if category["score"] is not None else None for key, category in report["categories"].items()}
    lost = []
    for key in TARGET:
        for ref in report["categories"][key]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                lost.append({"category": key, "audit": ref["id"], "score": audit["score"], "title": audit["title"]})
    metrics = {field: round(report["audits"][audit]["numericValue"], 3) for audit, field in METRICS.items() if audit in report["audits"]}
    return {
        "name": name,
        "path": shown_path,
        "performance": scores.get("performance"),
        "accessibility": scores.get("accessibility"),
        "best_practices": scores.get("best-practices"),
        "seo": scores.get("seo"),
        **metrics,
        "lost_points": lost,
        "runtime_error": report.get("runtimeError"),
    }


def meets(page: dict[str, Any]) -> bool:
    return all((page[key.replace("-", "_")] or 0) >= least for key, least in TARGET.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", help="only these pages, by name, comma-separated")
    parser.add_argument("--reports", type=Path, help="write each page's full Lighthouse report (JSON) into this directory")
    options = parser.parse_args()
    ensure_lighthouse()
    chrome = chromium()
    versions = {
        "lighthouse": json.loads((LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "package.json").read_text())["version"],
        "chromium": subprocess.run([chrome, "--version"], capture_output=True, text=True, check=False).stdout.strip(),
        "node": subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip(),
    }
    wanted = set(options.pages.split(",")) if options.pages else None
    with tempfile.TemporaryDirectory(prefix="events-lighthouse-") as directory:
        var_dir = Path(directory)
        env = demo_environment(var_dir)
        log("Migrating and seeding the demo")
        events_command(env, "migrate")
        events_command(env, "demo")
        token = events_command(env, "token", "create", ORGANISER).strip().splitlines()[-1]
        port = free_port()
        server = start_server(env, port, var_dir / "server.log")
        base_url = f"http://127.0.0.1:{port}"
        results: list[dict[str, Any]] = []
        failures: list[str] = []
        try:
            for name, path, shown_path in guest_pages(base_url, token):
                if wanted is not None and name not in wanted:
                    continue
                log(f"Lighthouse: {name}")
                try:
                    report = lighthouse(base_url + path, chrome, var_dir / f"profile-{name}")
                except RuntimeError as error:
                    log(str(error))
                    failures.append(name)
                    continue
                if options.reports:
                    options.reports.mkdir(parents=True, exist_ok=True)
                    (options.reports / f"{name}.json").write_text(json.dumps(report), encoding="utf-8")
                results.append(summary(name, shown_path, report))
        finally:
            stop_server(server)
    misses = [page["name"] for page in results if not meets(page)]
    print(
        json.dumps(
            {
                "benchmark": "lighthouse",
                **versions,
                "form_factor": "mobile",
                "pages": results,
                "target": {"performance": ">= 95", "accessibility": 100, "best_practices": 100},
                "met": not misses and not failures,
                "misses": misses,
                "failed": failures,
            },
            indent=2,
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
