"""The `portal-api` command line: migrate, schema checks, seed, audit verify, staff, errors."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from portal_api import schema
from portal_api.cli import main
from portal_api.db import Database, create_db_engine
from portal_api.seed import seed_demo


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal_api", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PORTAL_API_PASSWORD_PROFILE": "fast", "PATH": "/usr/bin"},
    )


def test_migrate_creates_the_schema_and_is_repeatable(tmp_path: Path, capsys) -> None:
    url = sqlite_url(tmp_path)
    assert main(["migrate", "--database", url]) == 0
    assert "was empty" in capsys.readouterr().out
    assert main(["migrate", "--database", url]) == 0
    engine = create_db_engine(url)
    assert schema.inspect_schema(engine).state == "current"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    engine = create_db_engine(url)
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    result = run("serve", "--database", url, "--port", "1")
    assert result.returncode == 2
    assert "newer than this service knows" in result.stderr
    assert "Traceback" not in result.stderr
    assert main(["migrate", "--database", url]) == 2


def test_older_schema_is_refused_with_the_migrate_hint(tmp_path: Path) -> None:
    """A schema at a known, earlier revision: serve must refuse and name `migrate`."""
    versions = tmp_path / "scripts" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "scripts" / "script.py.mako").write_text("")
    real = [
        r.revision
        for r in reversed(
            list(ScriptDirectory.from_config(schema.alembic_config()).walk_revisions())
        )
    ]
    chain = list(zip([*real, "next"], [None, *real], strict=True))  # one revision past ours
    for rev, down in chain:
        (versions / f"{rev}.py").write_text(
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
            "depends_on = None\ndef upgrade(): pass\ndef downgrade(): pass\n"
        )
    script = ScriptDirectory(str(tmp_path / "scripts"))
    engine = create_db_engine(sqlite_url(tmp_path))
    schema.upgrade(engine)  # at our head, which this script directory considers old
    with pytest.raises(schema.SchemaError, match="portal-api migrate"):
        schema.ensure_ready(engine, script=script)


def test_serve_explains_a_bad_database_url(tmp_path: Path) -> None:
    for url, words in (
        ("mysql://x/y", "unsupported database"),
        ("not a url", "not a database URL"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot reach the database"),
    ):
        result = run("serve", "--database", url)
        assert result.returncode == 2, url
        assert words in result.stderr
        assert "Traceback" not in result.stderr


def test_seed_then_refuse_to_seed_again(tmp_path: Path, capsys) -> None:
    url = sqlite_url(tmp_path)
    assert main(["seed", "--database", url, "--patients", "5", "--items", "8"]) == 0
    assert "password is 'demo'" in capsys.readouterr().out
    assert main(["seed", "--database", url]) == 2
    assert "already holds staff" in capsys.readouterr().err


def test_audit_verify_reports_intact_and_broken(tmp_path: Path, capsys) -> None:
    url = sqlite_url(tmp_path)
    engine = create_db_engine(url)
    schema.upgrade(engine)
    seed_demo(Database(engine), patients=3, items=3, password_profile="fast")
    assert main(["audit", "verify", "--database", url]) == 0
    assert "intact" in capsys.readouterr().out
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET action = 'tampered' WHERE seq = 1"))
    assert main(["audit", "verify", "--database", url]) == 1
    assert "BROKEN at event 1" in capsys.readouterr().out


def test_staff_add_and_deactivate(tmp_path: Path, monkeypatch, capsys) -> None:
    from fastapi.testclient import TestClient

    from portal_api.app import create_app
    from portal_api.config import Settings

    url = sqlite_url(tmp_path)
    assert main(["migrate", "--database", url]) == 0
    monkeypatch.setenv("PORTAL_API_PASSWORD_PROFILE", "fast")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    args = [
        "staff",
        "add",
        "--database",
        url,
        "--username",
        "jlee",
        "--display-name",
        "Jo Lee",
        "--role",
        "admin",
        "--password-stdin",
    ]
    assert main(args) == 2
    assert "at least 12" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    assert main(args) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    assert main(args) == 2  # exists already
    settings = Settings(database_url=url, password_profile="fast")
    with TestClient(create_app(settings)) as client:
        login = client.post(
            "/api/v1/auth/login", json={"username": "jlee", "password": "correct horse battery"}
        )
        assert login.status_code == 200
        assert login.json()["user"]["role"] == "admin"
        token = login.json()["access_token"]
        assert main(["staff", "deactivate", "--database", url, "--username", "jlee"]) == 0
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401


def test_simulate_explains_bad_arguments() -> None:
    result = run("simulate", "--url", "http://127.0.0.1:1", "--rate", "lots")
    assert result.returncode == 2
    assert "is not like 6/min" in result.stderr
    result = run("simulate", "--url", "http://127.0.0.1:1", "--rate", "6/min")
    assert result.returncode == 2
    assert "does not answer" in result.stderr


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("portal-api ")


def test_fhir_import_applies_a_bundle_file_or_names_what_is_wrong(tmp_path: Path, capsys) -> None:
    import json

    from tests.integration.test_fhir_import import bundle

    url = sqlite_url(tmp_path)
    assert main(["migrate", "--database", url]) == 0
    good = tmp_path / "chart.json"
    good.write_text(json.dumps(bundle("CLI-1")))
    assert main(["fhir", "import", str(good), "--database", url]) == 0
    assert "imported 6 resources" in capsys.readouterr().out
    broken = bundle("CLI-2")
    broken["entry"][2]["resource"]["whenHandedOver"] = "soon"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    assert main(["fhir", "import", str(bad), "--database", url]) == 1
    said = capsys.readouterr().out
    assert "refused: Bundle.entry[2].resource (MedicationDispense)" in said
    assert "soon" not in said
    missing = main(["fhir", "import", str(tmp_path / "nope.json"), "--database", url])
    assert missing != 0


def test_a_chart_from_the_ehr_gets_a_portal_account(tmp_path: Path, monkeypatch, capsys) -> None:
    import json

    from fastapi.testclient import TestClient

    from portal_api.app import create_app
    from portal_api.config import Settings
    from tests.integration.test_fhir_import import bundle

    url = sqlite_url(tmp_path)
    assert main(["migrate", "--database", url]) == 0
    monkeypatch.setenv("PORTAL_API_PASSWORD_PROFILE", "fast")
    chart = tmp_path / "chart.json"
    chart.write_text(json.dumps(bundle("ENR-1")))
    assert main(["fhir", "import", str(chart), "--database", url]) == 0
    enroll = ["patient", "add", "--database", url, "--mrn", "ENR-1", "--username", "Ada.Okafor"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long portal password\n"))
    assert main([*enroll, "--password-stdin"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long portal password\n"))
    assert main([*enroll, "--password-stdin"]) == 2  # one account per chart
    assert "already has a portal account" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long portal password\n"))
    unknown = ["patient", "add", "--database", url, "--mrn", "NOPE", "--username", "x"]
    assert main([*unknown, "--password-stdin"]) == 2
    assert "no chart with MRN NOPE" in capsys.readouterr().err
    settings = Settings(database_url=url, password_profile="fast")
    with TestClient(create_app(settings)) as client:
        signed = client.post(
            "/api/v1/patient/auth/login",
            json={"username": "ada.okafor", "password": "a long portal password"},
        )
        assert signed.status_code == 200
