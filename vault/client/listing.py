"""``vault ls``: the server's facts about each document plus what only the device can read.

The server knows a document's id, envelope size, upload time and the authorities it is
shared with; the file name, media type and plaintext size travel encrypted in the
envelope's metadata record. :func:`describe` decrypts them here with the unlocked key (an
applicant) or the authority's key (a caseworker, with the authority's detached stanza that
comes with each document). It reads them with the server's metadata-only read, a page of
headers and metadata records at a time (docs/envelope.md §13): one
``vault.document.metadata_read`` entry per document, and nothing of the content fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from commons import cli_messages as msg
from commons.i18n import _
from commons.text import human_bytes
from vault.errors import InvalidEnvelope

if TYPE_CHECKING:
    from rich.console import Console

    from vault.client.sdk import VaultClient
    from vault.recipients import PrivateKey


def describe(client: VaultClient, key: PrivateKey | None) -> list[dict[str, Any]]:
    """Every listed document as a dict: the server's fields (``id``, ``envelope_size``,
    ``created_at``, ``shared_with``) and, decrypted here, ``filename``, ``media_type``,
    ``size`` and ``content_hash`` (``None`` without a key). A document this key cannot
    open says so in ``error`` and the others are still listed."""
    from vault.client.sdk import open_sealed_metadata

    docs = client.ls()
    sealed = client.sealed_metadata() if key is not None and docs else {}
    for doc in docs:
        doc.update(filename=None, media_type=None, size=None, content_hash=None)
        if key is None:
            continue
        item = sealed.get(doc["id"])
        if item is None:  # deleted meanwhile: listed without its name
            doc["error"] = _(msg.DOCUMENT_GONE)
            continue
        try:
            meta = open_sealed_metadata(item, key)
        except InvalidEnvelope:
            doc["error"] = _(msg.UNREADABLE_DOCUMENT)
            continue
        doc.update(
            filename=meta.filename,
            media_type=meta.media_type,
            size=meta.size,
            content_hash=meta.content_hash,
        )
    return docs


def print_table(console: Console, docs: list[dict[str, Any]]) -> None:
    """The documents as a table, newest last, with the id in full (commands take it)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(*(_(header) for header in msg.TABLE_HEADERS))
    for doc in docs:
        name = doc["filename"] if doc["filename"] is not None else doc.get("error", "-")
        size = doc["size"]
        cells = (
            name,
            doc["media_type"] or "-",
            human_bytes(size) if size is not None else "-",
            str(doc["created_at"])[:19].replace("T", " "),
            ", ".join(doc["shared_with"]) or "-",
            doc["id"],
        )
        table.add_row(*(Text(str(c)) for c in cells))  # a file name is text, never markup
    table.columns[-1].no_wrap = True
    table.columns[-1].min_width = 36
    console.print(table)
