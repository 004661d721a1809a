"""The status names clients may send are event statuses (msgspec's Literal cannot name enum members)."""

import typing

from msgspec import UnsetType

from events.catalogue import rules
from events.catalogue.schemas import EventCreate, EventPatch
from events.catalogue.statuses import EventStatus


def _literal_values(annotation: object) -> set[str]:
    if typing.get_origin(annotation) is not typing.Literal:  # Literal[...] | UnsetType
        (annotation,) = [arg for arg in typing.get_args(annotation) if arg is not UnsetType]
    return set(typing.get_args(annotation))


def test_the_statuses_an_organiser_may_send_are_event_statuses() -> None:
    create = _literal_values(typing.get_type_hints(EventCreate)["status"])
    patch = _literal_values(typing.get_type_hints(EventPatch)["status"])
    assert create == {EventStatus.draft, EventStatus.on_sale}
    assert patch == set(EventStatus) - {EventStatus.cancelled}  # cancelling has its own call


def test_every_status_has_its_changes() -> None:
    assert set(rules.STATUS_CHANGES) == set(EventStatus) == set(rules.STATUSES)
