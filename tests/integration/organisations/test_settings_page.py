"""The organisation's settings page: an owner changes its details and logo (each change in the audit log, with the
fields it changed); a bad colour, charity number or logo is refused with a message and changes nothing; organisers
see the details but cannot change them."""

from __future__ import annotations

import io
import json
import re

import httpx
from PIL import Image

from events.accounts import service as accounts
from events.audit.tables import AuditEntry
from events.organisations import service as organisations
from events.organisations.rules import LOGO_MAX_BYTES, OrganisationDetails
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


async def test_an_owner_turns_whatsapp_on_for_texts_and_the_change_is_logged(client: httpx.AsyncClient) -> None:
    await signed_in(client, "owner")
    page = await client.get("/manage/organisation")
    assert 'name="whatsapp_enabled" type="checkbox"' in page.text and "checked" not in page.text.split('name="whatsapp_enabled"')[1][:60]
    assert "This service has no WhatsApp number yet" in page.text  # the tests' settings have no Twilio account
    saved = await client.post("/manage/organisation", data={**DETAILS, "whatsapp_enabled": "on", "_csrf_token": csrf(page.text)})
    assert saved.status_code == 303
    assert (await organisations.find("main")).whatsapp_enabled
    page = await client.get("/manage/organisation")
    assert "checked" in page.text.split('name="whatsapp_enabled"')[1][:60]
    [entry] = await entries()
    assert entry["before"]["whatsapp_enabled"] is False and entry["after"]["whatsapp_enabled"] is True  # type: ignore[index]

    # Unticked, the box is left out of the form: WhatsApp goes off again, and that is logged alone.
    await client.post("/manage/organisation", data={**DETAILS, "_csrf_token": csrf(page.text)})
    assert not (await organisations.find("main")).whatsapp_enabled
    assert (await entries())[1]["after"] == {"whatsapp_enabled": False}


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
