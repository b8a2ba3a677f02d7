"""`allo plan` on a small CSV, through typer's CliRunner."""

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import typer
from typer.testing import CliRunner

from allo.planning_cli import app

runner = CliRunner()
PARIS = ZoneInfo("Europe/Paris")


def _history(path: Path, weeks: int = 6) -> Path:
    rng = np.random.default_rng(3)
    lines = ["queue,start,volume,aht"]
    for d in range(7 * weeks):
        day = date(2026, 3, 2) + timedelta(days=d)
        if day.weekday() == 6:
            continue
        for slot in range(8 * 2, 19 * 2):
            start = datetime(day.year, day.month, day.day, tzinfo=PARIS) + timedelta(
                minutes=30 * slot
            )
            volume = rng.poisson(40 + 30 * np.sin(np.pi * (slot - 16) / 22))
            lines.append(f"fr_voice,{start.isoformat()},{volume},200")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CONFIG = {
    "queues": {
        "fr_voice": {
            "timezone": "Europe/Paris",
            "service_level": 0.8,
            "answer_within": 20,
            "patience": 300,
            "holidays": "FR",
        }
    },
    "sites": [
        {
            "name": "paris",
            "country": "FR",
            "timezone": "Europe/Paris",
            "hourly_cost": 28,
            "shrinkage": 0.3,
            "queues": ["fr_voice"],
        },
        {
            "name": "rabat",
            "country": "MA",
            "timezone": "Africa/Casablanca",
            "hourly_cost": 14.5,
            "shrinkage": 0.3,
            "queues": ["fr_voice"],
            "friday_prayer": ["12:30", "14:00"],
        },
    ],
    "shifts": [
        {
            "name": f"s{h}",
            "start": f"{h:02d}:00",
            "end": f"{h + 6:02d}:00",
            "breaks": [{"minutes": 30, "earliest": 150, "latest": 210, "paid": False}],
        }
        for h in range(7, 14)
    ],
    "policies": [{"queue": "fr_voice", "countries": ["FR"], "min_share": 0.3}],
}


def test_plan_writes_report_tables_and_schedule(tmp_path: Path) -> None:
    config = tmp_path / "plan.json"
    config.write_text(json.dumps(CONFIG), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            str(_history(tmp_path / "h.csv")),
            "-c",
            str(config),
            "-o",
            str(out),
            "--days",
            "2",
            "--time-limit",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Cost" in result.output
    for name in ("report.html", "staffing.csv", "shifts.csv", "plan.json"):
        assert (out / name).is_file()
    summary = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert summary["schedule"]["policy_shares"]["fr_voice"] >= 0.3 - 1e-6
    assert "data:image/png;base64" in (out / "report.html").read_text(encoding="utf-8")


def test_bad_rows_exit_2_naming_row_and_field(tmp_path: Path) -> None:
    history = _history(tmp_path / "h.csv", weeks=1)
    lines = history.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].rsplit(",", 2)[0] + ",-5,200"
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, [str(history), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "row 4, volume" in result.output and "Traceback" not in result.output
    lines[3] = lines[2]
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, [str(history), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "row 4, start: duplicates row 3" in result.output


def test_bad_config_exit_2(tmp_path: Path) -> None:
    history = _history(tmp_path / "h.csv", weeks=5)
    config = tmp_path / "c.json"
    bad = dict(CONFIG, sites=[dict(CONFIG["sites"][0], country="XX")])  # type: ignore[call-overload]
    config.write_text(json.dumps(bad), encoding="utf-8")
    result = runner.invoke(app, [str(history), "-c", str(config), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "country" in result.output
    bad = dict(CONFIG, sites=[dict(CONFIG["sites"][0], timezone="Mars/Base")])  # type: ignore[call-overload]
    config.write_text(json.dumps(bad), encoding="utf-8")
    result = runner.invoke(app, [str(history), "-c", str(config), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "timezone" in result.output
    result = runner.invoke(app, [str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "not a file" in result.output
    assert isinstance(app, typer.Typer)


def test_plan_from_the_database(tmp_path: Path, db_url: str) -> None:
    from datetime import UTC

    from allo.demo import seed_history
    from allo.services import accounts, queues
    from allo.services.bus import EventBus
    from allo.services.principal import system_principal
    from allo.store.database import make_engine
    from allo.store.uow import Store
    from tests.conftest import FakeClock

    now = datetime.now(UTC)
    engine = make_engine(db_url)
    store = Store(engine, EventBus(), FakeClock(now))
    with store.unit_of_work() as uow:
        tenant = accounts.create_tenant(uow, "cli", "CLI SA")
        queue = queues.create_queue(uow, system_principal(tenant.id), {"name": "Facturation"})
        seed_history(uow, tenant.id, [queue.id], now, np.random.default_rng(2), weeks=5)
    engine.dispose()
    out = tmp_path / "plan"
    common = ["--from-db", "--database-url", db_url, "--days", "1", "--out", str(out)]
    result = runner.invoke(app, [*common, "--tenant", "cli", "--queue", "Facturation"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "plan.json").read_text())
    assert summary["forecast"]["Facturation"]["method"]
    unknown = runner.invoke(app, [*common, "--tenant", "cli", "--queue", "Nope"])
    assert unknown.exit_code == 2 and "Nope" in unknown.output
    missing = runner.invoke(app, ["--from-db", "--database-url", db_url, "--queue", "Facturation"])
    assert missing.exit_code == 2 and "--tenant" in missing.output
