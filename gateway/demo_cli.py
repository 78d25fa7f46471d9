"""``ozg-commons demo``: the whole story of the README, step by step.

Without ``--url`` it runs against the embedded default, in this process: the app of
``ozg-commons serve`` (development), with the data directory ``OZG_DATA_DIR`` if set, else a
fresh temporary one that is removed afterwards. With ``--url`` it talks to a running server
over HTTP; the demo authority's keys then come from that server's data directory
(``--data-dir``, default ``OZG_DATA_DIR``), as only a demo deployment keeps them. Each step
prints one line; the command exits 1 at the first step that fails, 2 on a configuration
error.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer

from commons.i18n import _, accept_language, print_error


def demo(
    url: Annotated[
        str | None,
        typer.Option(help="Base URL of a running server; default: the embedded app, in process."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="The server's data directory (the demo authorities' keys, the demo CA); "
            "default OZG_DATA_DIR, or a fresh temporary one in process."
        ),
    ] = None,
    authority: Annotated[str, typer.Option(help="The demo authority acting as caseworker.")] = (
        "tf"
    ),
    stop_after: Annotated[
        int,
        typer.Option(
            min=1,
            max=12,
            help="Stop after this step; 6 leaves the submitted application to the caseworker.",
        ),
    ] = 12,
) -> None:
    """Run the whole story (log in, vault key, upload, form, fee, submit, the authority
    fetches and decides, mailbox, audit log) and print it step by step."""
    import httpx

    from gateway.client.demo import StepFailed, demo_authority_keys, run_story

    with ExitStack() as stack:
        http: Any
        public_url: str | None = None
        if url is None:
            http, directory, public_url = _embedded(stack, data_dir)
        else:
            http = stack.enter_context(
                httpx.Client(
                    base_url=url, timeout=120.0, headers={"Accept-Language": accept_language()}
                )
            )
            directory = data_dir or _settings().data_dir
        try:
            keys, anchors, crls = demo_authority_keys(http, directory, authority)
        except (OSError, KeyError, ValueError, httpx.HTTPError) as exc:
            print_error(
                _(
                    "the demo authority {authority} is not available: {reason}",
                    authority=repr(authority),
                    reason=exc,
                )
            )
            raise typer.Exit(2) from None
        try:
            result = run_story(
                http, keys, say=typer.echo, anchors=anchors, crls=crls, public_url=public_url,
                last_step=stop_after,
            )  # fmt: skip
        except StepFailed as exc:
            print_error(str(exc))
            raise typer.Exit(1) from None
    if stop_after < 12 and result.case_id:
        typer.echo(
            _("Stopped after step {n}, as asked: case {case}.", n=stop_after, case=result.case_id)
        )
        return
    if stop_after < 12:  # before step 4, there is no case yet
        typer.echo(_("Stopped after step {n}, as asked.", n=stop_after))
        return
    typer.echo(_("The whole story ran."))


def _settings() -> Any:
    from commons.settings import Settings

    return Settings()


def _embedded(stack: ExitStack, data_dir: Path | None) -> tuple[Any, Path, str]:
    """The development app in this process, on its migrated database, with its lifespan
    (the audit-log sequencer) running."""
    import os

    from fastapi.testclient import TestClient

    from commons.settings import Settings
    from gateway import migrations
    from gateway.app import check_startup, create_app

    if data_dir is None and not os.environ.get("OZG_DATA_DIR"):
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ozg-demo-")))
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    if settings.is_production:
        print_error(_("the demo runs only against a development deployment"))
        raise typer.Exit(2)
    check_startup(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(settings.effective_database_url)
    client = TestClient(create_app(settings), base_url=settings.public_base_url)
    stack.enter_context(client)
    return client, settings.data_dir, settings.public_base_url
