"""The organisation's settings page: an owner changes its details and logo (each change in the audit log, with the
fields it changed); a bad colour, charity number or logo is refused with a message and changes nothing; organisers
see the details but cannot change them."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar
from PIL import Image

from events.accounts import service as accounts
from events.audit.tables import AuditEntry
from events.config import TwilioSettings
from events.organisations import service as organisations
from events.organisations.rules import LOGO_MAX_BYTES, OrganisationDetails
from events.organisations.tables import Organisation
from tests.integration.accounts.test_login import sign_in

PASSWORD = "a long password"
DETAILS = {
    "name": "Refugee Kitchen",
    "contact_email": "Hello@RefugeeKitchen.example",
    "accent_colour": "#8A2C0D",
    "charity_name": "Refugee Kitchen CIO",
    "charity_number": "1234567",
    "gift_aid_reference": "ab12345",
}


def png(width: int = 120, height: int = 40, colour: tuple[int, int, int] = (138, 44, 13)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


async def signed_in(client: httpx.AsyncClient, role: str) -> None:
    await accounts.create_user(f"{role}@test.example", role=role, password=PASSWORD, display_name=role.title())
    assert (await sign_in(client, f"{role}@test.example", PASSWORD)).status_code == 303


async def entries() -> list[dict[str, object]]:
    rows = await AuditEntry.select().where(AuditEntry.action == "organisation.updated").order_by(AuditEntry.id)
    return [{**row, "before": json.loads(row["before"]) if isinstance(row["before"], str) else row["before"],
             "after": json.loads(row["after"]) if isinstance(row["after"], str) else row["after"]} for row in rows]  # fmt: skip


async def test_an_owner_saves_the_details_and_the_change_is_logged(client: httpx.AsyncClient) -> None:
    await signed_in(client, "owner")
    page = await client.get("/manage/organisation")
    assert page.status_code == 200 and 'action="/manage/organisation"' in page.text and 'aria-current="page">Organisation' in page.text
    saved = await client.post("/manage/organisation", data={**DETAILS, "_csrf_token": csrf(page.text)})
    assert saved.status_code == 303 and saved.headers["location"] == "/manage/organisation?notice=saved"
    row = await organisations.find("main")
    assert (row.name, row.contact_email, row.accent_colour) == ("Refugee Kitchen", "hello@refugeekitchen.example", "#8a2c0d")
    assert (row.charity_name, row.charity_number, row.gift_aid_reference) == ("Refugee Kitchen CIO", "1234567", "AB12345")
    after = await client.get(saved.headers["location"])
    assert "Details saved." in after.text and 'value="Refugee Kitchen CIO"' in after.text

    [entry] = await entries()
    assert entry["organisation"] == row.id and entry["actor"] == "Owner" and entry["subject_type"] == "organisation"
    assert entry["after"]["name"] == "Refugee Kitchen" and entry["before"]["name"] == "Our charity"  # type: ignore[index]
    assert set(entry["after"]) == set(DETAILS)  # type: ignore[arg-type]
    log = await client.get("/manage/audit")
    assert log.status_code == 200 and "organisation.updated" in log.text and "Refugee Kitchen CIO" in log.text

    # Saving again with one field changed logs that field alone; saving unchanged logs nothing.
    page = await client.get("/manage/organisation")
    await client.post("/manage/organisation", data={**DETAILS, "contact_email": "team@refugeekitchen.example", "_csrf_token": csrf(page.text)})
    await client.post("/manage/organisation", data={**DETAILS, "contact_email": "team@refugeekitchen.example", "_csrf_token": csrf(page.text)})
    logged = await entries()
    assert len(logged) == 2 and logged[1]["after"] == {"contact_email": "team@refugeekitchen.example"}


@pytest.fixture
def whatsapp_ready(app: Litestar) -> Iterator[None]:
    """The running app with a Twilio account, a WhatsApp sender and an approved WhatsApp template."""
    original = app.state.settings
    twilio = TwilioSettings(
        account_sid="AC" + "0" * 32,
        auth_token="a-token",
        sender="+447700900001",
        whatsapp_sender="+447700900002",
        whatsapp_content_sid="HX" + "0" * 32,
    )
    app.state.settings = dataclasses.replace(original, twilio=twilio)
    yield
    app.state.settings = original


def whatsapp_box(html: str) -> str:
    return html.split('name="whatsapp_enabled"')[1].split(">")[0]


async def test_an_owner_turns_whatsapp_on_for_texts_and_the_change_is_logged(client: httpx.AsyncClient, whatsapp_ready: None) -> None:
    await signed_in(client, "owner")
    page = await client.get("/manage/organisation")
    assert 'name="whatsapp_enabled" type="checkbox"' in page.text and "checked" not in whatsapp_box(page.text)
    assert "disabled" not in whatsapp_box(page.text) and "free for guests to receive over Wi-Fi" in page.text
    saved = await client.post("/manage/organisation", data={**DETAILS, "whatsapp_enabled": "on", "_csrf_token": csrf(page.text)})
    assert saved.status_code == 303
    assert (await organisations.find("main")).whatsapp_enabled
    page = await client.get("/manage/organisation")
    assert "checked" in whatsapp_box(page.text)
    [entry] = await entries()
    assert entry["before"]["whatsapp_enabled"] is False and entry["after"]["whatsapp_enabled"] is True  # type: ignore[index]

    # Unticked, the box is left out of the form: WhatsApp goes off again, and that is logged alone.
    await client.post("/manage/organisation", data={**DETAILS, "_csrf_token": csrf(page.text)})
    assert not (await organisations.find("main")).whatsapp_enabled
    assert (await entries())[1]["after"] == {"whatsapp_enabled": False}


async def test_whatsapp_cannot_be_turned_on_until_the_platform_has_an_approved_template(client: httpx.AsyncClient) -> None:
    """The tests' settings have no Twilio account, so no WhatsApp template: the switch is disabled and says why, and
    a form that asks for it anyway is refused with that reason, changing nothing."""
    await signed_in(client, "owner")
    page = await client.get("/manage/organisation")
    assert "disabled" in whatsapp_box(page.text) and "checked" not in whatsapp_box(page.text)
    assert "the platform must set one up first, so this cannot be turned on yet. Until then texts go by SMS." in page.text
    assert 'aria-describedby="whatsapp_enabled-hint"' in whatsapp_box(page.text)
    refused = await client.post("/manage/organisation", data={**DETAILS, "whatsapp_enabled": "on", "_csrf_token": csrf(page.text)})
    assert refused.status_code == 422 and 'id="whatsapp_enabled-error"' in refused.text
    assert "WhatsApp cannot be turned on yet" in refused.text and "checked" not in whatsapp_box(refused.text)
    row = await organisations.find("main")
    assert not row.whatsapp_enabled and row.name != DETAILS["name"]  # nothing saved
    assert await entries() == []

    # An organisation that turned it on earlier keeps its choice (its texts go by SMS meanwhile): the disabled box
    # shows it, and saving the other details leaves it as it was.
    await Organisation.update({Organisation.whatsapp_enabled: True}, force=True)
    page = await client.get("/manage/organisation")
    assert "checked" in whatsapp_box(page.text) and "disabled" in whatsapp_box(page.text)
    saved = await client.post("/manage/organisation", data={**DETAILS, "_csrf_token": csrf(page.text)})
    assert saved.status_code == 303
    assert (await organisations.find("main")).whatsapp_enabled
    [entry] = await entries()
    assert "whatsapp_enabled" not in entry["after"]  # type: ignore[operator]


async def test_a_colour_white_text_cannot_be_read_on_is_refused_with_its_contrast(client: httpx.AsyncClient) -> None:
    await signed_in(client, "owner")
    page = await client.get("/manage/organisation")
    refused = await client.post(
        "/manage/organisation", data={**DETAILS, "accent_colour": "#ffcc00", "charity_number": "12", "_csrf_token": csrf(page.text)}
    )
    assert refused.status_code == 422
    assert "White text on this colour is hard to read (contrast 1.5:1, at least 4.5:1 is needed)" in refused.text
    assert "Give the registered charity number" in refused.text
    assert 'value="#ffcc00"' in refused.text and 'aria-invalid="true"' in refused.text  # the owner's values are kept
    not_a_colour = await client.post("/manage/organisation", data={**DETAILS, "accent_colour": "red;}body{x", "_csrf_token": csrf(page.text)})
    assert not_a_colour.status_code == 422 and "Give a colour as # and six hexadecimal digits" in not_a_colour.text
    row = await organisations.find("main")
    assert (row.name, row.accent_colour) == ("Our charity", "#0b5c4a")
    assert await entries() == []


async def test_an_owner_uploads_and_removes_the_logo(client: httpx.AsyncClient) -> None:
    await signed_in(client, "owner")
    page = await client.get("/manage/organisation")
    assert 'enctype="multipart/form-data"' in page.text and "No logo yet." in page.text
    logo = png()
    uploaded = await client.post("/manage/organisation/logo", data={"_csrf_token": csrf(page.text)}, files={"logo": ("logo.png", logo, "image/png")})
    assert uploaded.status_code == 303 and uploaded.headers["location"] == "/manage/organisation?notice=logo"
    served = await client.get("/organisations/main/logo")
    assert served.status_code == 200 and served.content == logo and served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    page = await client.get("/manage/organisation")
    assert 'src="/organisations/main/logo"' in page.text and "Remove logo" in page.text

    removed = await client.post("/manage/organisation/logo/remove", data={"_csrf_token": csrf(page.text)})
    assert removed.status_code == 303 and removed.headers["location"] == "/manage/organisation?notice=logo_removed"
    assert (await client.get("/organisations/main/logo")).status_code == 404
    logged = await entries()
    assert [entry["after"] for entry in logged] == [{"logo": f"image/png, {len(logo)} bytes"}, {"logo": ""}]
    assert logged[1]["before"] == {"logo": "image/png"}


async def test_svg_oversize_and_non_image_logos_are_refused_and_change_nothing(client: httpx.AsyncClient) -> None:
    await signed_in(client, "owner")
    page = await client.get("/manage/organisation")
    token = csrf(page.text)
    first = png()
    assert (
        await client.post("/manage/organisation/logo", data={"_csrf_token": token}, files={"logo": ("a.png", first, "image/png")})
    ).status_code == 303
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'
    oversize = png() + b"\0" * LOGO_MAX_BYTES
    gif = b"GIF89a" + b"\0" * 64
    cases = [
        ("logo.svg", svg, "image/svg+xml", "The logo must be a PNG or JPEG image."),
        ("big.png", oversize, "image/png", "The logo must be at most 256 KB."),
        ("logo.gif", gif, "image/gif", "The logo must be a PNG or JPEG image."),
        ("notes.txt", b"hello", "text/plain", "The logo must be a PNG or JPEG image."),
        ("fake.png", svg, "image/png", "The logo must be a PNG or JPEG image."),  # the bytes decide, not the name or type sent
        ("empty.png", b"", "image/png", "Choose an image file."),
    ]
    for filename, content, content_type, message in cases:
        refused = await client.post("/manage/organisation/logo", data={"_csrf_token": token}, files={"logo": (filename, content, content_type)})
        assert refused.status_code == 422, filename
        assert message in refused.text and 'aria-invalid="true"' in refused.text, filename
    no_file = await client.post("/manage/organisation/logo", data={"_csrf_token": token, "logo": "not a file"})
    assert no_file.status_code == 422 and "Choose an image file." in no_file.text
    assert (await client.get("/organisations/main/logo")).content == first
    assert len(await entries()) == 1  # the first upload only


async def test_organisers_see_the_details_but_cannot_change_them(client: httpx.AsyncClient) -> None:
    await organisations.update_details((await organisations.find("main")).id, OrganisationDetails(**DETAILS))
    await signed_in(client, "organiser")
    page = await client.get("/manage/organisation")
    assert page.status_code == 200
    assert "Only an owner of the organisation can change these details." in page.text and "Refugee Kitchen CIO" in page.text
    assert 'action="/manage/organisation' not in page.text
    token = csrf((await client.get("/manage")).text)
    assert (await client.post("/manage/organisation", data={**DETAILS, "name": "Taken over", "_csrf_token": token})).status_code == 403
    logo = await client.post("/manage/organisation/logo", data={"_csrf_token": token}, files={"logo": ("a.png", png(), "image/png")})
    assert logo.status_code == 403
    assert (await client.post("/manage/organisation/logo/remove", data={"_csrf_token": token})).status_code == 403
    assert (await organisations.find("main")).name == "Refugee Kitchen" and not (await organisations.find("main")).has_logo
    assert await entries() == []


async def test_door_staff_and_strangers_cannot_open_it(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/manage/organisation")
    assert anonymous.status_code in (302, 401)
    await signed_in(client, "door")
    assert (await client.get("/manage/organisation")).status_code == 403


async def test_each_owner_changes_only_their_own_organisation(client: httpx.AsyncClient) -> None:
    other = await organisations.create_organisation("open-kitchen", OrganisationDetails(name="Open Kitchen"))
    await accounts.create_user("owner@open.example", role="owner", password=PASSWORD, organisation_id=other.id)
    assert (await sign_in(client, "owner@open.example", PASSWORD)).status_code == 303
    page = await client.get("/manage/organisation")
    assert 'value="Open Kitchen"' in page.text
    await client.post("/manage/organisation", data={**DETAILS, "name": "Open Kitchen Project", "_csrf_token": csrf(page.text)})
    assert (await organisations.find("open-kitchen")).name == "Open Kitchen Project"
    assert (await organisations.find("main")).name == "Our charity"
    [entry] = await entries()
    assert entry["organisation"] == other.id
