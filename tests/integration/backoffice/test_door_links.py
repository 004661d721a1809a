"""Door volunteers find their door pages: signing in with nowhere in particular to go takes a door member to their
account page, which links to the door page of each upcoming event whose door team they are on; a door-team
invitation's email carries those links too."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from events.accounts import service
from events.catalogue.tables import Event
from events.checkin import door_team
from tests.factories import make_event
from tests.integration.accounts.test_login import sign_in
from tests.integration.accounts.test_passwords import mail  # noqa: F401 - the SMTP fixture
from tests.integration.backoffice.test_invitations import PASSWORD, invitation_link, owner_signed_in
from tests.integration.tickets.test_email import SmtpServer
from tests.support.backoffice import sign_in_organiser


async def test_a_door_member_signs_in_to_their_account_page_with_links_to_their_doors(client: httpx.AsyncClient, now: datetime) -> None:
    slug = await make_event(now)
    other = await make_event(now, slug="not-my-door")
    over = await make_event(now, slug="last-year")
    await Event.update({Event.status: "finished"}).where(Event.slug == over)
    door = await service.create_user("door@test.example", role="door", password=PASSWORD, display_name="Dana Door")
    for event in (slug, over):
        row = await Event.select(Event.id).where(Event.slug == event).first()
        await door_team.assign_door_staff(row["id"], door.id, now=now)

    signed_in = await sign_in(client, "door@test.example", PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account"
    account = await client.get("/account")
    assert account.status_code == 200
    doors = re.findall(r'href="(/door/[^"]+)"', account.text)
    assert doors == [f"/door/{slug}"]  # not another event's door, nor one that is over
    assert (await client.get(doors[0])).status_code == 200
    assert f"/door/{other}" not in account.text


async def test_an_organiser_lands_in_the_back_office_which_every_page_links_to(client: httpx.AsyncClient, now: datetime) -> None:
    await sign_in_organiser(client)
    await client.post("/logout", data={})
    landed = await sign_in(client, "boss@test.example", PASSWORD)
    assert landed.headers["location"] == "/manage"
    assert "Your door pages" not in (await client.get("/account")).text
    for page in ("/", "/account"):  # the public pages and their own account page lead back to it
        assert '<a href="/manage">Back office</a>' in (await client.get(page)).text
    await client.post("/logout", data={})
    going = await sign_in(client, "boss@test.example", PASSWORD, "/manage/guests")
    assert going.status_code == 303 and going.headers["location"] == "/manage/guests"  # still where they were going


async def test_a_door_team_invitation_email_links_to_the_door_pages(
    client: httpx.AsyncClient,
    mail: SmtpServer,  # noqa: F811
    now: datetime,
) -> None:
    await owner_signed_in(client)
    token = await service.create_api_token("owner@test.example", now=now)
    slug = await make_event(now)
    made = await client.post(
        "/api/invitations", json={"email": "new-door@test.example", "role": "door", "events": [slug]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert made.status_code == 201, made.text
    await invitation_link(mail)
    message = mail.inbox.messages()[-1]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert re.search(rf"Supper Club: http://\S+/door/{slug}\s", text), text
    assert re.search(rf'<a href="http://\S+/door/{slug}">', html)


async def test_the_demos_door_login_is_on_the_door_team_of_each_of_its_organisations_events(client: httpx.AsyncClient, now: datetime) -> None:
    """`make run` prints a door login: signed in with it, the account page links to a door page for each of the
    network's events (the demo's are all to come), not the kitchen's."""
    from events.demo import DEMO_DOOR_EMAIL, DEMO_DOOR_PASSWORD, seed_demo

    created = await seed_demo(now, with_demo_login=True)
    assert "door team of choose-love-night" in created
    assert await sign_in(client, DEMO_DOOR_EMAIL, DEMO_DOOR_PASSWORD)
    doors = set(re.findall(r'href="/door/([^"]+)"', (await client.get("/account")).text))
    network = {row["slug"] for row in await Event.select(Event.slug).where(Event.organisation.slug == "refugee-welcome")}
    assert doors == network and "open-kitchen-sunday-lunch" not in doors
    assert not any(entry.startswith("door team") for entry in await seed_demo(now, with_demo_login=True))  # once
