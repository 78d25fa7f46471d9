"""The command lines' two safeguards against losing data: one question before anything is
destroyed (:func:`confirm`), and one way to write a file, whole or not at all and never over
an existing one unless asked (:func:`write_new_file`).

The vault's device commands (``vault rm``) and the applicant's commands (``me erase``,
``me export``, ``me consents``, ``mailbox``) use these, so that every command asks the same
question the same way, refuses the same way without a terminal, and writes files alike.
Tests replace :func:`interactive` to answer on a terminal that is not there.

Both end in :func:`move_without_replacing`, the rename that never replaces a file that
appeared meanwhile; the vault client's streaming download (``VaultClient.get``) ends in it
too. typer is imported only where a command exits, so that the client library can use the
rename without the command line's machinery.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from commons import cli_messages as msg
from commons.i18n import _, print_error, say


def interactive() -> bool:
    """Whether a person can answer a question on this terminal (tests replace it)."""
    return sys.stdin.isatty()


def confirm(question: str, *, yes: bool, declined: str = msg.NOTHING_CHANGED) -> None:
    """Go on only if the user says yes to ``question`` (or gave ``--yes``). Without a
    terminal to ask on, refuse with one line and exit 2 rather than assume; a "no" says
    ``declined`` (a marked message, translated here) and exits 1. ``question`` is already
    translated; it is asked on stderr, so that stdout stays the command's output."""
    import typer

    if yes:
        return
    if not interactive():
        print_error(_(msg.NOT_INTERACTIVE))
        raise typer.Exit(2)
    if not typer.confirm(question, default=False, err=True):
        say(_(declined))
        raise typer.Exit(1)


def write_new_file(path: Path, data: bytes, *, force: bool, private: bool = True) -> None:
    """Write ``data`` to ``path`` as a whole or not at all (a temporary file in the same
    folder, then renamed); an existing file is replaced only with ``force``. ``private``:
    readable by this user only (personal data). The check before writing is repeated by the
    rename, which never replaces a file that appeared meanwhile (without ``force``)."""
    import typer

    if path.is_dir():
        print_error(_(msg.OUTPUT_IS_FOLDER, path=path))
        raise typer.Exit(2)
    if path.exists() and not force:
        print_error(_(msg.OUTPUT_EXISTS, path=path))
        raise typer.Exit(2)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o600 if private else 0o644)
        if force:
            os.replace(temp, path)
        else:
            move_without_replacing(Path(temp), path)
    except FileExistsError:
        print_error(_(msg.OUTPUT_EXISTS, path=path))
        raise typer.Exit(2) from None
    finally:
        Path(temp).unlink(missing_ok=True)


def move_without_replacing(src: Path, dest: Path) -> None:
    """Give ``src`` the name ``dest`` unless ``dest`` exists (:class:`FileExistsError`):
    a hard link where the file system has them, else the name is claimed exclusively first
    and then replaced by ``src`` in one rename."""
    try:
        os.link(src, dest)
    except FileExistsError:
        raise
    except OSError:
        os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        src.replace(dest)
    else:
        src.unlink()
