"""`allo simulate`: run, compare (HTML report), bad input, and replay of a recorded day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from allo.services import contacts
from allo.services.principal import system_principal
from allo.services.replay import replay
from allo.simulation_cli import app
from allo.store.tables import ContactRow
from allo.store.uow import Store
from tests.integration.conftest import Tenant

runner = CliRunner()
SCENARIOS = resources.files("allo.simulation") / "scenarios"


def scenario(name: str) -> str:
    return str(SCENARIOS / f"{name}.yaml")


def test_simulate_prints_measures_with_confidence_intervals(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = runner.invoke(
        app, [scenario("france"), "--replications", "3", "--seed", "1", "--workers", "1",
              "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    labels = ["service level", "ASA", "abandon rate", "occupancy Lille", "cost per contact"]
    labels += ["cost per resolved contact", "expected satisfaction", "repeat-contact rate"]
    for label in labels:
        assert label in result.output
    assert "±" in result.output
    assert '"service_level"' in out.read_text()


def test_replications_in_parallel_processes_give_the_same_numbers(tmp_path: Path) -> None:
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"{workers}.json"
        args = [scenario("france"), "-r", "2", "--workers", workers, "--json", str(out)]
        assert runner.invoke(app, args).exit_code == 0
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]


def test_compare_writes_an_html_report_with_charts(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    args = ["compare", scenario("france"), scenario("hybrid"), "-r", "2", "--workers", "1",
            "-o", str(report)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    html = report.read_text()
    assert "All in France" in html and "Hybrid" in html and html.count("<img") >= 5


def test_bad_scenario_gets_line_and_field_and_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path(scenario("france")).read_text().replace("hourly_cost: 28", "hourly_cost: -1")
    )
    result = runner.invoke(app, [str(bad), "-r", "2", "--workers", "1"])
    assert result.exit_code == 2
    assert "line 10, sites[0].hourly_cost" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(app, [str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2


DAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def record_day(store: Store, tenant: Tenant) -> None:
    """40 calls a minute apart, asking for France; Paris answers what it can in turn, the
    Antananarivo adviser takes those that waited more than 90 s, a few hang up."""
    actor = system_principal(tenant.id)
    paris_free, tana_free = DAY, DAY
    with store.unit_of_work() as uow:
        for k in range(40):
            created = DAY + timedelta(seconds=60 * k)
            handling = timedelta(seconds=150)
            if paris_free <= created + timedelta(seconds=90):
                answered = max(created, paris_free)
                adviser, paris_free = tenant.ids["paris_adviser"], answered + handling
            elif tana_free <= created + timedelta(seconds=90) and k % 3:
                answered = max(created + timedelta(seconds=90), tana_free)
                adviser, tana_free = tenant.ids["tana_adviser"], answered + handling
            else:
                answered, adviser = None, None
            row = contacts.record_past_contact(
                uow, actor, {"channel": "voice", "queue_id": tenant.ids["queue"]},
                created_at=created, answered_at=answered,
                ended_at=(answered + handling) if answered else created + timedelta(seconds=100),
            )  # fmt: skip
            uow.session.execute(
                update(ContactRow)
                .where(ContactRow.id == row.id)
                .values(adviser_id=adviser, site_group="france")
            )
        uow.commit()


def test_replay_compares_what_happened_with_another_overflow(store: Store, acme: Tenant) -> None:
    record_day(store, acme)
    report = replay(store, "acme", DAY.date(), overflow_after=30)
    assert report.recorded.contacts == report.replayed_new.contacts == 40
    assert report.replayed_current.contacts == 40
    assert report.recorded.answered + report.recorded.abandoned == 40
    # Overflowing after 30 s instead of 90 s lets Antananarivo answer sooner.
    assert report.replayed_new.asa <= report.replayed_current.asa


def test_replay_command(store: Store, acme: Tenant, db_url: str) -> None:
    record_day(store, acme)
    args = ["replay", "--database-url", db_url, "--tenant", "acme", "--day", "2026-03-02",
            "--overflow-after", "30"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "replay, new policy" in result.output and "service level" in result.output
    unknown = runner.invoke(app, [*args[:4], "nobody", *args[5:]])
    assert unknown.exit_code == 2 and "not found" in unknown.output
    empty = runner.invoke(app, [*args[:6], "2026-03-03", *args[7:]])
    assert empty.exit_code == 2 and "no contacts" in empty.output


@pytest.mark.parametrize("day", ["02/03/2026"])
def test_replay_bad_day(day: str, db_url: str) -> None:
    args = ["replay", "--database-url", db_url, "--tenant", "acme", "--day", day,
            "--overflow-after", "30"]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 2


def test_mounted_under_allo_the_file_is_the_default_command() -> None:
    import typer

    root = typer.Typer()
    root.add_typer(app, name="simulate")
    result = runner.invoke(root, ["simulate", scenario("france"), "-r", "2", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "service level" in result.output
    assert "compare" in runner.invoke(root, ["simulate", "--help"]).output
