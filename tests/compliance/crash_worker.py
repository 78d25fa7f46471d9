"""Run by the crash test as a subprocess: append and sequence as fast as possible until
killed. Not a test module."""

from __future__ import annotations

import os
import sys
import threading

from commons.db import Database
from compliance import AccessEvent, Actor, record_access
from compliance.keys import LogIdentity
from compliance.note import Signer
from compliance.sequencer import sequence_pass


def main() -> None:
    url, skey = sys.argv[1], os.environ["CRASH_SIGNING_KEY"]
    signer = Signer.from_string(skey)
    identity = LogIdentity(origin=signer.name, signer=signer)
    database = Database.from_url(url)

    def sequencer() -> None:
        while True:
            with database.transaction() as session:
                sequence_pass(session, identity, batch=13)

    threading.Thread(target=sequencer, daemon=True).start()
    n = 0
    while True:
        with database.transaction() as session:
            for _ in range(3):
                record_access(
                    session,
                    AccessEvent(
                        actor=Actor("officer", "caseworker", "tf"),
                        data_subject=f"s{n}",
                        action="vault.document.read",
                        resource=f"doc:{n}",
                        purpose="crash test",
                        legal_basis="test",
                    ),
                )
                n += 1
        sys.stdout.write(f"{n}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
