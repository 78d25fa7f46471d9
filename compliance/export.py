"""The DPO's export of the access log (``GET /v1/audit/export``), JSON or CSV.

Every matching entry, with the checkpoint it was taken under and (JSON) its inclusion proof;
the formats are specified in docs/audit-log.md. The export is written batch by batch to a
spooled temporary file (memory stays bounded however many entries match; nothing is capped)
and streamed from there.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from sqlalchemy.orm import Session

from compliance import service, views
from compliance.models import Checkpoint

SPOOL_IN_MEMORY = 4 * 1024 * 1024  # bytes kept in memory before the file goes to disk
CHUNK = 64 * 1024

ExportFormat = Literal["json", "csv"]


@dataclass(slots=True)
class ExportFile:
    """A written export: iterate :meth:`chunks` once to stream it (that closes the file)."""

    file: IO[bytes]
    media_type: str
    headers: dict[str, str] = field(default_factory=dict)

    def chunks(self) -> Iterator[bytes]:
        with self.file:
            while block := self.file.read(CHUNK):
                yield block

    def close(self) -> None:
        self.file.close()


def write_export(
    session: Session,
    *,
    verifier_key: str,
    authority: str | None,
    entry_filter: views.EntryFilter,
    format: ExportFormat,
) -> ExportFile:
    """Write every entry the DPO of ``authority`` may see that matches ``entry_filter``."""
    checkpoint = service.latest_checkpoint(session)
    cp_note = checkpoint.note if checkpoint else None
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # closed by chunks()
    try:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        entries = _entries(session, authority, entry_filter, checkpoint)
        if format == "json":
            head = {
                "format": "ozg-audit-export/v1",
                "verifier_key": verifier_key,
                "checkpoint": cp_note,
            }
            text.write(json.dumps(head)[:-1] + ', "entries": [')
            separator = "\n"
            for entry in entries:
                text.write(separator + json.dumps(entry))
                separator = ",\n"
            text.write("\n]}\n")
            media_type, headers = "application/json", {}
        else:
            size = checkpoint.size if checkpoint else 0
            writer = csv.DictWriter(text, fieldnames=[*views.CSV_COLUMNS, "checkpoint_size"])
            writer.writeheader()
            for entry in entries:
                del entry["inclusion_proof"]
                writer.writerow({**entry, "checkpoint_size": size})
            media_type = "text/csv; charset=utf-8"
            headers = {"Audit-Checkpoint": views.b64(cp_note.encode()) if cp_note else ""}
        text.flush()
        text.detach()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return ExportFile(out, media_type, headers)


def _entries(
    session: Session,
    authority: str | None,
    entry_filter: views.EntryFilter,
    checkpoint: Checkpoint | None,
) -> Iterator[dict[str, Any]]:
    for rows in views.dpo_batches(session, authority, entry_filter):
        indexes = [r.entry.leaf_index for r in rows if r.entry.leaf_index is not None]
        proofs = views.proofs_for(session, indexes, checkpoint)
        for r in rows:
            index = r.entry.leaf_index
            yield views.entry_json(r, proofs.get(index) if index is not None else None)
