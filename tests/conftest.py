"""Fixtures shared by the whole suite.

- The database is SQLite by default, or a fresh PostgreSQL database created for this run
  when ``OZG_TEST_DATABASE_URL`` is set (and dropped afterwards). Migrations run first.
- Each test runs inside a transaction that is rolled back afterwards.
- Tests marked ``postgres``, ``s3`` or ``oidc`` need a real server, ``node`` Node >= 20 and
  ``browser`` Debian's Chromium with Playwright; with
  ``OZG_TEST_REQUIRE_SERVICES=1`` a skip of such a test is reported as a failure.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from account.auth import current_principal
from account.principal import Principal
from commons.db import Database, make_engine
from commons.settings import Settings
from gateway.app import create_app
from gateway.migrations import upgrade

INTEGRATION_MARKERS = ("postgres", "s3", "oidc", "node", "browser", "faults")
REQUIRE_SERVICES = os.environ.get("OZG_TEST_REQUIRE_SERVICES") == "1"


_ran_by_marker: dict[str, int] = dict.fromkeys(INTEGRATION_MARKERS, 0)
_MARKERS_PROPERTY = "ozg_integration_markers"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    markers = [m for m in INTEGRATION_MARKERS if item.get_closest_marker(m)]
    if report.when == "call" and markers:
        # The report travels to pytest-xdist's controller with its user properties; the
        # controller counts it in pytest_runtest_logreport (a worker's counters die with it).
        report.user_properties.append((_MARKERS_PROPERTY, ",".join(markers)))
    if not (REQUIRE_SERVICES and report.skipped):
        return
    if markers:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            f"integration test ({', '.join(markers)}) was skipped, but "
            f"OZG_TEST_REQUIRE_SERVICES=1 requires it to run: {reason}"
        )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count passed integration tests, in the process that reports: the only one without
    xdist, the controller with it (workers' reports arrive there)."""
    if report.when != "call" or not report.passed:
        return
    for name, value in report.user_properties:
        if name == _MARKERS_PROPERTY:
            for marker in str(value).split(","):
                _ran_by_marker[marker] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With OZG_TEST_REQUIRE_SERVICES=1, a run in which no test of a service ran fails."""
    if not REQUIRE_SERVICES or session.config.option.collectonly:
        return
    if hasattr(session.config, "workerinput"):
        return  # a pytest-xdist worker: the controller sees every report and decides
    config = session.config
    # pytest gives the test paths as given (or as testpaths spells them: relative), so both
    # sides are compared as resolved paths.
    chosen = {(config.invocation_params.dir / arg).resolve() for arg in config.args}
    whole = {(config.rootpath / p).resolve() for p in config.getini("testpaths")}
    if config.option.keyword or config.option.markexpr or chosen != whole:
        return  # a partial run (-k, -m or chosen paths) need not cover every service
    missing = [m for m, n in _ran_by_marker.items() if n == 0]
    if missing:
        session.config.get_terminal_writer().line(
            f"OZG_TEST_REQUIRE_SERVICES=1 but no test passed against: {', '.join(missing)}",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their own Settings; a developer's OZG_* variables must not leak in, nor
    their language (the command line follows LANG: tests that want German set it), nor a
    terminal size (pytest-xdist's workers set COLUMNS=80 and LINES=24, which the command
    line's tables would follow where a plain run writes them whole)."""
    for key in list(os.environ):
        if key.startswith("OZG_") and not key.startswith("OZG_TEST_"):
            monkeypatch.delenv(key)
    for key in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "COLUMNS", "LINES"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands run through a CLI runner configure logging (one handler on the root logger)
    with the runner's stderr, which is closed when the command returns: a later test's log
    line would go to that closed stream. Each test ends with the loggers it began with."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = [
        (lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled)
        for lg in (logging.getLogger(name) for name in names)
    ]
    yield
    for lg, handlers, level, propagate, disabled in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.disabled = disabled


# --------------------------------------------------------------------------- database
def _create_postgres_database(base_url: str) -> tuple[str, Engine]:
    url = make_url(base_url)
    name = f"ozg_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), admin


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database that lives for this test run only."""
    base = os.environ.get("OZG_TEST_DATABASE_URL")
    if not base:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'ozg-test.sqlite3'}"
        upgrade(url)
        yield url
        return
    url, admin = _create_postgres_database(base)
    try:
        upgrade(url)
        yield url
    finally:
        name = make_url(url).database
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def database(engine: Engine) -> Iterator[Database]:
    """A Database whose every unit of work is rolled back when the test ends."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield Database(engine, bind=conn)
        finally:
            outer.rollback()


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """The run's database, if it is PostgreSQL; tests that need it are marked ``postgres``."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set OZG_TEST_DATABASE_URL=postgresql+psycopg://...")
    return database_url


# --------------------------------------------------------------------------- app
@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the demo CA and the demo authorities' keys, made once per run
    through the real first-start path (six RSA-4096 keys take seconds) and copied into each
    test's data directory, as a second start of the same deployment would find it."""
    from gateway.authorities.demo import ensure_demo_keys

    path = tmp_path_factory.mktemp("demo-data")
    ensure_demo_keys(Settings(data_dir=path))
    return path


@pytest.fixture
def settings(tmp_path: Path, database_url: str, demo_data_dir: Path) -> Settings:
    data_dir = tmp_path / "var"
    shutil.copytree(demo_data_dir, data_dir)
    return Settings(data_dir=data_dir, database_url=database_url)


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def oidc_settings() -> Settings:
    """Settings for the Keycloak-shaped OIDC provider that CI starts."""
    server_url = os.environ.get("OZG_TEST_OIDC_SERVER_URL")
    if not server_url:
        pytest.skip("needs the OIDC provider: set OZG_TEST_OIDC_SERVER_URL and _REALM")
    return Settings(
        identity_provider="keycloak",
        keycloak_server_url=server_url,
        keycloak_realm=os.environ.get("OZG_TEST_OIDC_REALM", "ozg"),
        keycloak_client_id="ozg-api",
        keycloak_client_secret=SecretStr("ozg-api-secret"),
    )


@pytest.fixture
def act_as(app: FastAPI) -> Iterator[Callable[[Principal | None], None]]:
    """Make the app see requests as coming from a principal (``None``: anonymous).

    For domain tests; the token path itself is tested in tests/account.
    """

    def use(principal: Principal | None) -> None:
        if principal is None:
            app.dependency_overrides.pop(current_principal, None)
        else:
            app.dependency_overrides[current_principal] = lambda: principal

    yield use
    app.dependency_overrides.pop(current_principal, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only the tests that use the run's database (the database_url fixture, "
        "directly or through another fixture, or the 'database' marker): CI's second pass "
        "on SQLite, after the whole suite ran on PostgreSQL",
    )


def _uses_database(item: pytest.Item) -> bool:
    return "database_url" in getattr(item, "fixturenames", ()) or bool(
        item.get_closest_marker("database")
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last, and those with a Playwright of their own before those on
    pytest-playwright's session-wide one: that one keeps an event loop running in the main
    thread until the session ends, which breaks ``asyncio.run`` and a second Playwright.
    Under pytest-xdist each worker gets its tests in this order, so this holds per worker.

    With ``--database-tests-only`` the tests that never touch the run's database are
    deselected: they do the same whichever database the run has."""
    if config.getoption("database_tests_only"):
        keep = [i for i in items if _uses_database(i)]
        dropped = [i for i in items if not _uses_database(i)]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    browser = [i for i in items if i.get_closest_marker("browser")]
    own = [i for i in browser if "browser" not in getattr(i, "fixturenames", ())]
    shared = [i for i in browser if i not in own]
    items[:] = [i for i in items if not i.get_closest_marker("browser")] + own + shared
