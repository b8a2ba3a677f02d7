"""Site calendars: holidays, Ramadan, Morocco's clock, DST nights, legal limits."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from allo.domain.errors import InvalidValue
from allo.planning.calendars import (
    SiteCalendar,
    Timeline,
    in_ramadan,
    legal_limits,
    local_clock_table,
    public_holidays,
    ramadan,
    site_availability,
)
from allo.planning.shifts import PlanSite, SchedulingProblem, ShiftTemplate, _instance


def test_morocco_goes_back_to_utc_during_ramadan() -> None:
    casablanca = ZoneInfo("Africa/Casablanca")
    winter = datetime(2026, 1, 15, 12, tzinfo=casablanca)
    during = datetime(2026, 3, 1, 12, tzinfo=casablanca)
    assert winter.utcoffset() == timedelta(hours=1)
    assert during.utcoffset() == timedelta(0)
    assert during.dst() is not None and during.dst() < timedelta(0)  # negative DST
    # Seen from Paris: same hour in winter, one hour behind during Ramadan.
    paris = ZoneInfo("Europe/Paris")
    assert during.astimezone(paris).hour == 13


def test_ramadan_2026_from_hijridate_with_override() -> None:
    assert ramadan(2026) == [(date(2026, 2, 18), date(2026, 3, 19))]
    assert ramadan(2026, shift_days=1)[0][0] == date(2026, 2, 19)
    rabat = SiteCalendar("MA", "Africa/Casablanca", islamic_shift_days=-1)
    assert in_ramadan(rabat, date(2026, 2, 17))


def test_alsace_moselle_only_holiday() -> None:
    strasbourg = SiteCalendar("FR", "Europe/Paris", subdiv="57")
    paris = SiteCalendar("FR", "Europe/Paris")
    good_friday = date(2026, 4, 3)
    assert good_friday in public_holidays(strasbourg, [2026])
    assert good_friday not in public_holidays(paris, [2026])
    assert date(2026, 12, 26) in public_holidays(strasbourg, [2026])


def test_overseas_and_other_countries() -> None:
    reunion = public_holidays(SiteCalendar("FR", "Indian/Reunion", subdiv="974"), [2026])
    assert date(2026, 12, 20) in reunion  # abolition of slavery in La Réunion
    for country, zone in [
        ("TN", "Africa/Tunis"),
        ("SN", "Africa/Dakar"),
        ("MG", "Indian/Antananarivo"),
        ("RO", "Europe/Bucharest"),
        ("MU", "Indian/Mauritius"),
    ]:
        assert public_holidays(SiteCalendar(country, zone), [2026])
    # Romania follows Orthodox Easter (12 April 2026, Easter Monday the 13th).
    assert date(2026, 4, 13) in public_holidays(SiteCalendar("RO", "Europe/Bucharest"), [2026])


def test_islamic_holidays_shift_and_override() -> None:
    base = public_holidays(SiteCalendar("MA", "Africa/Casablanca"), [2026])
    assert date(2026, 3, 20) in base  # Eid al-Fitr (estimated)
    shifted = public_holidays(SiteCalendar("MA", "Africa/Casablanca", islamic_shift_days=1), [2026])
    assert date(2026, 3, 22) in shifted and date(2026, 3, 20) not in shifted
    custom = SiteCalendar("MA", "Africa/Casablanca", holiday_overrides={date(2026, 5, 1): None})
    assert date(2026, 5, 1) not in public_holidays(custom, [2026])


def test_legal_limits() -> None:
    assert legal_limits("FR").max_week_hours == 48 and legal_limits("FR").max_day_hours == 10
    assert legal_limits("MA").max_week_hours == 44
    assert legal_limits("TN").max_week_hours == 48
    with pytest.raises(InvalidValue, match="country"):
        legal_limits("XX")


def test_bad_calendar_inputs() -> None:
    with pytest.raises(InvalidValue, match="country"):
        SiteCalendar("XX", "Europe/Paris")
    with pytest.raises(InvalidValue, match="timezone"):
        SiteCalendar("FR", "Europe/Atlantis")
    with pytest.raises(InvalidValue, match="subdiv"):
        SiteCalendar("FR", "Europe/Paris", subdiv="99")


def test_intervals_shown_in_queue_and_site_time() -> None:
    timeline = Timeline(datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Europe/Paris")), 2, 30)
    rows = local_clock_table(
        timeline, "Europe/Paris", {"rabat": "Africa/Casablanca", "tana": "Indian/Antananarivo"}
    )
    assert rows[0] == {
        "queue": "2026-03-02 09:00 CET",
        "rabat": "2026-03-02 08:00 +00",
        "tana": "2026-03-02 11:00 EAT",
    }


def test_ramadan_hours_holidays_and_friday_prayer() -> None:
    rabat = SiteCalendar(
        "MA",
        "Africa/Casablanca",
        ramadan_hours=(time(9), time(15)),
        friday_prayer=(time(12, 30), time(14)),
    )
    # Friday 6 March 2026, in Ramadan; Rabat is UTC+0 then.
    timeline = Timeline(datetime(2026, 3, 6, tzinfo=ZoneInfo("UTC")), 48, 30)
    open_, paused = site_availability(rabat, timeline)
    assert not open_[16] and open_[18] and open_[29] and not open_[30]  # 08:00, 09:00, 14:30, 15:00
    assert paused[25] and paused[27] and not paused[28]  # 12:30, 13:30, 14:00
    holiday = Timeline(datetime(2026, 5, 1, tzinfo=ZoneInfo("Africa/Casablanca")), 4, 60)
    assert not site_availability(rabat, holiday)[0].any()


@pytest.mark.parametrize(("night", "hours"), [(date(2026, 3, 28), 7.0), (date(2026, 10, 24), 9.0)])
def test_night_shift_across_dst_change(night: date, hours: float) -> None:
    paris = SiteCalendar("FR", "Europe/Paris", limits=None)
    site = PlanSite("paris", paris, 28.0, 0.3, frozenset({"fr"}))
    timeline = Timeline(
        datetime.combine(night, time(0), tzinfo=ZoneInfo("Europe/Paris")), 2 * 96, 15
    )
    template = ShiftTemplate("night", time(22), time(6))
    problem = SchedulingProblem(
        timeline, {"fr": np.zeros(timeline.count)}, [site], [template], cyclic=False
    )
    shift = _instance(site, template, night, problem)
    assert shift is not None
    assert shift.paid_hours == hours
    assert shift.working.size == hours * 4
    assert shift.start.hour == 22
