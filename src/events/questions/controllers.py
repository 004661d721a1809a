"""Questions HTTP: the organiser's questions API and pages (set-up and the kitchen list as a page, PDF and CSV), and
the guest's page for changing their answers from their order. Each handler reads its input, makes one service call
and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template

from events.accounts.auth import requires_role
from events.accounts.roles import ORGANISER
from events.config import Settings
from events.dependencies import BEARER, error_responses
from events.errors import EventsError, NotFound
from events.orders.access import reference_with_token
from events.orders.forms import parse_count
from events.questions import forms, kitchen, rules, service
from events.questions.schemas import KitchenListOut, OptionOut, QuestionCountsOut, QuestionIn, QuestionOut, TallyOut
from events.questions.service import KitchenList, QuestionView
from events.row_ids import RowIdParameter

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
GUEST_PAGE = {"Cache-Control": "private, no-cache", "Vary": "Cookie, Accept-Language", "X-Robots-Tag": "noindex"}
GUARD = [requires_role(ORGANISER)]
QuestionId = RowIdParameter
Form = URLEncodedBody[dict[str, str]]


def question_out(view: QuestionView) -> QuestionOut:
    return QuestionOut(
        id=view.id,
        kind=view.kind,
        label=view.label,
        help_text=view.help_text,
        preset=view.preset,
        options=[OptionOut(option.key, option.label, option.takes_note) for option in view.options],
        required=view.required,
        per_ticket=view.per_ticket,
        door_flag=view.door_flag,
        ticket_types=list(view.ticket_types),
        position=view.position,
        answers=view.answers,
    )


def kitchen_out(found: KitchenList) -> KitchenListOut:
    return KitchenListOut(
        event=found.event.slug,
        guests=found.guests,
        questions=[
            QuestionCountsOut(
                question=counts.question,
                label=counts.label,
                kind=counts.kind,
                per_ticket=counts.per_ticket,
                asked=counts.asked,
                answered=counts.answered,
                unanswered=counts.unanswered,
                counts=[TallyOut(tally.key, tally.label, tally.count) for tally in counts.tallies],
                notes=counts.notes,
            )
            for counts in found.questions
        ],
    )


class QuestionsApi(Controller):
    path = "/api/events/{slug:str}/questions"
    tags = ["Questions"]
    guards = GUARD
    security = BEARER

    @post(
        "/",
        summary="Ask the event's guests a question, or add the dietary and allergen needs preset (organiser)",
        responses=error_responses(401, 403, 404, 422),
    )
    async def add(self, slug: FromPath[str], data: JSONBody[QuestionIn], now: NamedDependency[datetime]) -> QuestionOut:
        return question_out(await service.add_question(slug, data.draft(), now=now, preset=data.preset or ""))

    @get("/", summary="The event's questions, in the order guests are asked them (organiser)", responses=error_responses(401, 403, 404))
    async def list(self, slug: FromPath[str]) -> list[QuestionOut]:
        return [question_out(view) for view in await service.list_questions(slug)]

    @get(
        "/summary",
        summary="The kitchen list: how many guests gave each answer, counts only (organiser)",
        responses=error_responses(401, 403, 404),
    )
    async def summary(self, slug: FromPath[str]) -> KitchenListOut:
        return kitchen_out(await service.kitchen_list(slug))


# --- the organiser's pages ------------------------------------------------------------------------------


def _page(template: str, *, status_code: int = 200, **context: Any) -> Template:
    return Template(
        f"questions/{template}", context={"section": "questions", "errors": {}, "form": {}, **context}, status_code=status_code, headers=PRIVATE
    )


def _errors(error: EventsError) -> dict[str, str]:
    return dict(error.fields) or {"form": error.message}


async def _setup_page(slug: str, *, notice: str = "", status_code: int = 200, **context: Any) -> Template:
    setup = await service.question_setup(slug)
    context.setdefault("cut_off_form", {"close_hours": str(setup.close_hours)})
    return _page("setup.html", status_code=status_code, event=setup.event, setup=setup, notice=notice, **context)


class QuestionPages(Controller):
    """An event's Questions page: add a ready-made or an own question, change, reorder and remove them, and set until
    when guests may change their answers."""

    path = "/manage/events/{slug:str}/questions"
    include_in_schema = False
    guards = GUARD

    @get("/", name="event_questions")
    async def show(self, slug: FromPath[str], notice: FromQuery[str] = "") -> Template:
        return await _setup_page(slug, notice=notice, form={"kind": "one_choice", "asked": "per_ticket"})

    @post("/")
    async def add(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        setup = await service.question_setup(slug)
        draft = forms.draft_from_form(data, [type_id for type_id, _ in setup.ticket_types])
        try:
            added = await service.add_question(slug, draft, now=now)
        except EventsError as error:
            return await _setup_page(slug, form=data, errors=_errors(error), status_code=error.status_code)
        return Redirect(f"/manage/events/{slug}/questions?notice=added#question-{added.id}", status_code=303)

    @post("/preset")
    async def add_preset(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        key = data.get("preset", "")
        draft = service.preset_draft(key) if key in rules.PRESETS else rules.Draft(kind="", label="")
        try:
            added = await service.add_question(slug, draft, now=now, preset=key)
        except EventsError as error:
            return await _setup_page(
                slug, preset_error=error.message, status_code=error.status_code, form={"kind": "one_choice", "asked": "per_ticket"}
            )
        return Redirect(f"/manage/events/{slug}/questions?notice=added#question-{added.id}", status_code=303)

    @get("/{question_id:int}/edit", name="question_edit")
    async def edit(self, slug: FromPath[str], question_id: QuestionId) -> Template:
        setup = await service.question_setup(slug)
        question = _one(setup, question_id)
        return _page("edit.html", event=setup.event, setup=setup, question=question, form=forms.draft_form(question.draft()))

    @post("/{question_id:int}/edit")
    async def save(self, slug: FromPath[str], question_id: QuestionId, data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        setup = await service.question_setup(slug)
        question = _one(setup, question_id)
        draft = forms.draft_from_form(data, [type_id for type_id, _ in setup.ticket_types])
        try:
            await service.change_question(slug, question_id, draft, now=now)
        except EventsError as error:
            if error.status_code == 404:
                raise
            return _page(
                "edit.html", event=setup.event, setup=setup, question=question, form=data, errors=_errors(error), status_code=error.status_code
            )
        return Redirect(f"/manage/events/{slug}/questions?notice=saved#question-{question_id}", status_code=303)

    @post("/{question_id:int}/move", status_code=303)
    async def move(self, slug: FromPath[str], question_id: QuestionId, data: Form, now: NamedDependency[datetime]) -> Redirect:
        await service.move_question(slug, question_id, data.get("direction", ""), now=now)
        return Redirect(f"/manage/events/{slug}/questions?notice=moved#question-{question_id}", status_code=303)

    @post("/{question_id:int}/remove", status_code=303)
    async def remove(self, slug: FromPath[str], question_id: QuestionId, now: NamedDependency[datetime]) -> Redirect:
        await service.remove_question(slug, question_id, now=now)
        return Redirect(f"/manage/events/{slug}/questions?notice=removed", status_code=303)

    @post("/cut-off")
    async def cut_off(self, slug: FromPath[str], data: Form, now: NamedDependency[datetime]) -> Template | Redirect:
        try:
            await service.set_answers_close(slug, parse_count(data.get("close_hours", "")), now=now)
        except EventsError as error:
            return await _setup_page(slug, cut_off_form=data, errors=_errors(error), status_code=error.status_code)
        return Redirect(f"/manage/events/{slug}/questions?notice=cut_off#cut-off", status_code=303)


def _one(setup: service.QuestionSetup, question_id: int) -> QuestionView:
    found = next((question for question in setup.questions if question.id == question_id), None)
    if found is None:
        raise NotFound(service.QUESTION_NOT_FOUND, code="question_not_found")
    return found


class KitchenPages(Controller):
    """The kitchen list: counts only, as a page, a print-friendly PDF and a CSV."""

    path = "/manage/events/{slug:str}"
    include_in_schema = False
    guards = GUARD

    @get("/kitchen", name="kitchen_list")
    async def page(self, slug: FromPath[str]) -> Template:
        found = await service.kitchen_list(slug)
        return _page("kitchen.html", event=found.event, kitchen=found)

    @get("/kitchen.pdf")
    async def pdf(self, slug: FromPath[str]) -> Response[bytes]:
        content = await kitchen.kitchen_pdf(await service.kitchen_list(slug))
        return Response(
            content, media_type="application/pdf", headers={**PRIVATE, "Content-Disposition": f'attachment; filename="kitchen-list-{slug}.pdf"'}
        )

    @get("/kitchen.csv")
    async def csv(self, slug: FromPath[str]) -> Response[str]:
        content = kitchen.kitchen_csv(await service.kitchen_list(slug))
        return Response(
            content,
            media_type="text/csv; charset=utf-8",
            headers={**PRIVATE, "Content-Disposition": f'attachment; filename="kitchen-list-{slug}.csv"'},
        )


# --- the guest's own answers ------------------------------------------------------------------------------


class GuestAnswerPages(Controller):
    """The guest changes their answers from their order page (with the order's token), until the event's cut-off."""

    path = "/orders/{reference:str}/answers"
    include_in_schema = False

    @get("/", name="order_answers")
    async def show(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        token: FromQuery[str],
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
        saved: FromQuery[bool] = False,
    ) -> Template:
        reference = reference_with_token(settings.secret_key, reference, token)
        answers = await service.guest_answers(reference, locale=request.state.locale, now=now)
        context = {"answers": answers, "token": token, "form": answers.values if answers else {}, "errors": {}, "saved": saved}
        return Template("questions/answers.html", context=context, headers=GUEST_PAGE)

    @post("/", status_code=303)
    async def change(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        data: Form,
        now: NamedDependency[datetime],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        token = data.get("token", "")
        reference = reference_with_token(settings.secret_key, reference, token)
        try:
            await service.change_answers(reference, data, locale=request.state.locale, now=now)
        except EventsError as error:
            answers = await service.guest_answers(reference, locale=request.state.locale, now=now)
            return Template(
                "questions/answers.html",
                context={"answers": answers, "token": token, "form": data, "errors": error.fields, "error": error.message},
                status_code=error.status_code,
                headers=GUEST_PAGE,
            )
        return Redirect(f"/orders/{reference}/answers?token={quote(token, safe='')}&saved=1", status_code=303)
