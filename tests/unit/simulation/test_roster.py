"""Rosters: breaks spread over their window, Ramadan hours, Friday prayer, holidays, Erlang A."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from allo.planning.calendars import SiteCalendar
from allo.simulation.model import AutoStaffing, Break, Shift, Team
from allo.simulation.roster import build_roster, shift_periods, subtract
from tests.unit.simulation.helpers import RABAT, two_sites

H = 3600.0


def test_breaks_are_spread_over_their_window_and_unpaid_ones_cost_nothing() -> None:
    shift = Shift(8 * H, 16 * H, 4, (Break(12 * H, 13 * H, 30, paid=False),))
    starts = [shift_periods(shift, rank)[0][1][0] - 30 * 60 for rank in range(4)]
    assert starts == [12 * H, 12.25 * H, 12.5 * H, 12.75 * H]
    assert shift_periods(shift, 0)[1] == 30 * 60


def test_subtract() -> None:
    assert subtract([(0, 10), (20, 30)], [(5, 25)]) == [(0, 5), (25, 30)]


def test_ramadan_hours_and_friday_prayer_keep_advisers_off_the_phones() -> None:
    base = two_sites()
    # 2 March 2026 is in Ramadan; 6 March is a Friday. Rabat works 09:00–15:00 local (UTC+0,
    # i.e. 10:00–16:00 in Paris).
    calendar = SiteCalendar(
        "MA", "Africa/Casablanca", ramadan_hours=(time(9), time(15)),
        friday_prayer=(time(12, 30), time(14)),
    )  # fmt: skip
    rabat = replace(base.sites[1], calendar=calendar)
    monday = build_roster(replace(base, sites=(base.sites[0], rabat)))
    periods = [e.periods for e in monday if e.site_index == 1]
    assert periods[0] == ((10 * H, 16 * H),)
    friday = build_roster(replace(base, day=date(2026, 3, 6), sites=(base.sites[0], rabat)))
    assert next(e.periods for e in friday if e.site_index == 1) == (
        (10 * H, 13.5 * H),
        (15 * H, 16 * H),
    )


def test_a_public_holiday_closes_the_site() -> None:
    base = two_sites()
    holiday = SiteCalendar("FR", "Europe/Paris")
    paris = replace(base.sites[0], calendar=holiday)
    roster = build_roster(replace(base, day=date(2026, 5, 1), sites=(paris, base.sites[1])))
    assert all(e.periods == () and e.paid_seconds == 0 for e in roster if e.site_index == 0)


def test_planning_staffs_the_queue_and_moves_a_closed_site_share() -> None:
    base = two_sites()
    queue = replace(base.queues[0], auto_staffing=AutoStaffing())
    calendar = SiteCalendar("MA", "Africa/Casablanca", ramadan_hours=(time(9), time(15)))
    sites = (
        replace(base.sites[0], teams=(), auto_share=0.5),
        replace(base.sites[1], site=RABAT, teams=(), auto_share=0.5, calendar=calendar),
    )
    roster = build_roster(replace(base, sites=sites, queues=(queue,)))
    at = {0: 0, 1: 0}
    for entry in roster:
        at[entry.site_index] += any(b <= 8.5 * H < e for b, e in entry.periods)
    # At 08:30 Rabat is closed (07:30 local): Paris carries the whole requirement.
    assert at[1] == 0 and at[0] >= 6
    team: Team = base.sites[0].teams[0]
    assert team.skills == {"billing": 3}
