from datetime import UTC, datetime

import pytest

from allo.domain.advisers import Adviser, AdviserState, check_adviser_transition
from allo.domain.errors import IllegalTransition, InvalidValue
from allo.domain.queues import OpeningHours, Queue, ServiceLevelTarget
from allo.domain.sites import Site, TransferBasis


def make_site(**changes: object) -> Site:
    fields: dict[str, object] = dict(
        id=1,
        tenant_id=1,
        name="Rabat",
        country="MA",
        timezone="Africa/Casablanca",
        languages=("fr", "ar"),
        hourly_cost=14.5,
        transfer_basis=TransferBasis.SCC,
    )
    fields.update(changes)
    return Site(**fields)  # type: ignore[arg-type]


def test_valid_site() -> None:
    assert make_site().country == "MA"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"languages": ()}, "languages"),
        ({"hourly_cost": -1.0}, "hourly_cost"),
        ({"currency": "euro"}, "currency"),
        ({"transfer_basis": TransferBasis.EEA}, "transfer_basis"),
    ],
)
def test_invalid_site_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        make_site(**changes)
    assert raised.value.field == field


def test_adviser_skill_levels_are_1_to_5() -> None:
    with pytest.raises(InvalidValue) as raised:
        Adviser(
            id=1, tenant_id=1, site_id=1, name="Amal", skills={"billing": 6}, languages={"fr": 5}
        )
    assert raised.value.field == "skills.billing"


def test_adviser_matching() -> None:
    adviser = Adviser(
        id=1,
        tenant_id=1,
        site_id=1,
        name="Amal",
        skills={"billing": 4},
        languages={"fr": 5, "ar": 5},
    )
    assert adviser.has_skills({"billing": 3})
    assert not adviser.has_skills({"billing": 5})
    assert not adviser.has_skills({"tech": 1})
    assert adviser.speaks("fr", 4)
    assert not adviser.speaks("en", 1)


def test_adviser_cannot_go_from_logged_out_to_wrap_up() -> None:
    with pytest.raises(IllegalTransition):
        check_adviser_transition(AdviserState.LOGGED_OUT, AdviserState.WRAP_UP)
    check_adviser_transition(AdviserState.LOGGED_OUT, AdviserState.READY)


def test_opening_hours_are_judged_in_the_queue_time_zone() -> None:
    hours = OpeningHours("Europe/Paris", {"mon": [["08:00", "20:00"]]})
    # Monday 2 March 2026, 07:30 UTC is 08:30 in Paris (winter, UTC+1).
    assert hours.is_open(datetime(2026, 3, 2, 7, 30, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 3, 2, 6, 30, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))


def test_queue_rejects_bad_target_and_hours() -> None:
    with pytest.raises(InvalidValue):
        ServiceLevelTarget(percent=120)
    with pytest.raises(InvalidValue) as raised:
        OpeningHours("Europe/Paris", {"mon": [["20:00", "08:00"]]})
    assert raised.value.field == "opening_hours.weekly.mon[0]"
    with pytest.raises(InvalidValue):
        Queue(
            id=1, tenant_id=1, name="Facturation", required_skills={"billing": 2}, language="french"
        )
