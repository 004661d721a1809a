"""Every answer carries the security headers: pages, the API, static files, redirects, 404s and error pages."""

import httpx
import pytest

from events.catalogue import service as catalogue

EXPECTED = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}


def directives(response: httpx.Response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))


def assert_protected(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    policy = directives(response)
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "strict-transport-security" not in response.headers  # development: plain http on a laptop


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),  # a page
        ("/api/events", 200),  # the API
        ("/static/css/site.css", 200),  # a static file
        ("/sw.js", 200),  # the service worker
        ("/.well-known/apple-developer-merchantid-domain-association", 404),  # the Apple Pay file, while it is not set
        ("/no-such-page", 404),  # no route at all
        ("/api/events/no-such-event", 404),  # the API's error
        ("/manage/events/supper-club", 302),  # a redirect to sign in
        ("/language/fr?next=/events", 302),  # a redirect with a cookie
    ],
)
async def test_headers_are_on_every_kind_of_response(client: httpx.AsyncClient, path: str, status: int) -> None:
    response = await client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == status
    assert_protected(response)


async def test_headers_are_on_the_page_for_a_server_error(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(now: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(catalogue, "list_upcoming_events", broken)
    page = await client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 500 and "Something went wrong" in page.text
    assert_protected(page)
    api = await client.get("/api/events")
    assert api.status_code == 500 and api.json()["error"] == "server_error"
    assert_protected(api)


async def test_the_api_reference_page_may_load_only_its_own_script(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema")
    assert response.status_code == 200
    assert_protected(response)
    scalar_js, configuration = directives(response)["script-src"].split(" ")
    assert scalar_js.startswith("https://cdn.jsdelivr.net/npm/@scalar/api-reference@")
    assert configuration == "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"  # the empty string's: no inline code
    assert '<script id="api-reference" data-url="/schema/openapi.json"></script>' in response.text
