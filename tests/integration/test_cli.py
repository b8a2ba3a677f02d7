"""The `allo` command: clear messages and exit code 2 on mistakes, never a traceback."""

from pathlib import Path

from typer.testing import CliRunner

from allo.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_db_upgrade_tenant_and_user_create(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    assert run("db", "upgrade", "--database-url", url)[0] == 0
    code, out = run("tenant", "create", "--slug", "acme", "--name", "Acme", "--database-url", url)
    assert code == 0, out
    code, out = run(
        "user",
        "create",
        "--tenant",
        "acme",
        "--email",
        "boss@acme.test",
        "--role",
        "admin",
        "--password",
        "long-password",
        "--database-url",
        url,
    )
    assert code == 0, out
    assert "boss@acme.test" in out


def test_mistakes_exit_2_with_a_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    run("db", "upgrade", "--database-url", url)
    cases = [
        (
            "user",
            "create",
            "--tenant",
            "nope",
            "--email",
            "a@b.test",
            "--role",
            "admin",
            "--password",
            "long-password",
            "--database-url",
            url,
        ),
        ("tenant", "create", "--slug", "Bad Slug!", "--name", "X", "--database-url", url),
        (
            "user",
            "create",
            "--tenant",
            "x",
            "--email",
            "a@b.test",
            "--role",
            "wizard",
            "--password",
            "long-password",
            "--database-url",
            url,
        ),
        ("serve", "--database-url", f"sqlite:///{tmp_path / 'never-upgraded.sqlite'}"),
        (
            "tenant",
            "create",
            "--slug",
            "ok",
            "--name",
            "X",
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/none",
        ),
    ]
    for args in cases:
        code, out = run(*args)
        assert code == 2, (args, out)
        assert "Traceback" not in out


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["demo", "--help"],
        ["db", "upgrade", "--help"],
        ["user", "create", "--help"],
        ["tenant", "create", "--help"],
    ):
        code, out = run(*args)
        assert code == 0, args
        assert "Usage" in out


def test_demo_seeds_once_and_reuses_the_file(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    code, out = run("demo", "--db", str(db), "--no-serve")
    assert code == 0, out
    assert "admin@demo.allo.test" in out
    assert run("demo", "--db", str(db), "--no-serve")[0] == 0
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        counts = {
            t: connection.execute(text(f"select count(*) from {t}")).scalar()
            for t in ("tenants", "sites", "advisers", "queues")
        }
    engine.dispose()
    assert counts == {"tenants": 1, "sites": 5, "advisers": 40, "queues": 4}
