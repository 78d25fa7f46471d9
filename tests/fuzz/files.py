"""Fuzz targets of the vault's file formats: the envelope (header, stanzas, body, metadata
record) and the sanitizers of PDF, JPEG and PNG files."""

from __future__ import annotations

import io
import os
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from tests.fuzz.targets import WORKDIRS, Target, refused, rsa_key


# --------------------------------------------------------------------------- envelope
def envelope() -> Target:
    from vault import envelope as env
    from vault.errors import InvalidEnvelope
    from vault.recipients import PublicKey, Stanza

    identity = ec.generate_private_key(ec.SECP256R1())
    recipients: list[PublicKey] = [identity.public_key(), rsa_key(3072).public_key()]

    def structure(data: bytes) -> str:
        src = io.BytesIO(data)
        header = env.read_header(src)
        env.body_is_well_formed(header, len(data) - src.tell(), 1_000_000)
        return "accepted"

    def run(data: bytes) -> str:
        rest = data[1:]
        if data[:1] and data[0] & 1:  # the metadata record's plaintext (after decryption)
            record = struct.pack(">H", min(len(rest), 0xFFFF)) + rest
            record = record[: env.METADATA_LEN] + bytes(max(0, env.METADATA_LEN - len(record)))
            return refused(lambda: env.Metadata.decode(record), InvalidEnvelope)
        refused(lambda: structure(rest), InvalidEnvelope)
        refused(lambda: Stanza.decode(rest[34:]), InvalidEnvelope)
        return refused(lambda: env.open_bytes(rest, identity), InvalidEnvelope)

    def sealed(plaintext: bytes) -> bytes:
        return env.seal_bytes(
            plaintext,
            recipients,
            filename="Reisepass.pdf",
            media_type="application/pdf",
            content_hash="sha-256:00",
            chunk_size=env.MIN_CHUNK_SIZE,
        )

    meta = env.Metadata("Reisepass.pdf", "application/pdf", 3, "sha-256:00").encode()
    seeds = [b"\x00" + sealed(p) for p in (b"", b"abc", os.urandom(5000), bytes(8192))]
    seeds.append(b"\x01" + meta[2 : 2 + struct.unpack(">H", meta[:2])[0]])
    return Target(
        "envelope",
        "vault.envelope: read_header, body_is_well_formed, open, Stanza and Metadata decoding",
        run,
        seeds,
        tokens=(b"OZGV\x01", b"\x00\x10\x00", b"\x00\x01", b"\x02\x2b", b'"size"', b'"filename"'),
        max_len=32768,
        short_runs=1500,
    )


# --------------------------------------------------------------------------- sanitizers
def _sanitize_run(workdir: Path) -> Callable[[bytes], str]:
    from vault import sanitize
    from vault.errors import SanitizeError

    suffix = {sanitize.PDF: ".pdf", sanitize.JPEG: ".jpg", sanitize.PNG: ".png"}

    def run(data: bytes) -> str:
        kind = sanitize.detect_type(data[:1024])
        src = workdir / ("in" + suffix.get(kind or "", ".pdf"))
        dest = workdir / "out"
        src.write_bytes(data)
        if kind == sanitize.PDF:  # the authority's client re-checks a PDF it received
            refused(lambda: sanitize.inspect_pdf(src), SanitizeError)
        try:
            report = sanitize.sanitize_file(src, dest)
        except SanitizeError as exc:
            return type(exc).__name__
        finally:
            src.unlink()
        # What was accepted is clean: nothing left that the sanitizer would strip (for a PDF,
        # sanitize_pdf itself re-inspects what it wrote and refuses it otherwise).
        if report.media_type != sanitize.PDF:
            again = sanitize.Report(report.media_type)
            clean = dest.read_bytes()
            strip = (
                sanitize._strip_jpeg if report.media_type == sanitize.JPEG else sanitize._strip_png
            )
            assert strip(clean, again) == clean
            assert not again.removed
        return "accepted"

    return run


def _workdir(name: str) -> Path:
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None  # noqa: S108  (RAM, not disk)
    path = Path(tempfile.mkdtemp(prefix=f"ozg-fuzz-{name}-", dir=base))
    WORKDIRS.append(path)
    return path


def _pdf_seeds() -> list[bytes]:
    import pikepdf

    def save(pdf: pikepdf.Pdf) -> bytes:
        out = io.BytesIO()
        pdf.save(out, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
        return out.getvalue()

    seeds = []
    pdf = pikepdf.new()
    pdf.add_blank_page()
    seeds.append(save(pdf))
    page = pdf.pages[0].obj
    goto = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Array([page, pikepdf.Name.Fit]))
    js = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("1")))
    goto.Next = pikepdf.Array(
        [js, pikepdf.Dictionary(S=pikepdf.Name.Named, N=pikepdf.Name.NextPage)]
    )
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10], A=goto
    )
    uri = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[0, 0, 5, 5],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://x")),
    )
    page.Annots = pdf.make_indirect(pikepdf.Array([link, uri]))
    seeds.append(save(pdf))
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.GoToR, F=pikepdf.String("\\\\h\\s\\x.pdf")
    )
    pdf.Root.AA = pikepdf.Dictionary(WC=js)
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=["a", js]))
    pdf.Root.Outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, Count=0))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[], XFA=pikepdf.String("<xdp/>"))
    pdf.docinfo["/Title"] = "Reisepass"
    seeds.append(save(pdf))
    return seeds


def pdf() -> Target:
    run = _sanitize_run(_workdir("pdf"))
    return Target(
        "pdf",
        "vault.sanitize.sanitize_file (PDF: pikepdf, the action allow-list) and inspect_pdf",
        run,
        _pdf_seeds(),
        tokens=(
            b"/S /JavaScript",
            b"/Next",
            b"/OpenAction",
            b"/AA",
            b"/Launch",
            b" 0 R",
            b"/Annots",
            b"/GoTo",
            b"/Names",
            b"<<",
            b">>",
            b"[",
            b"]",
            b"obj",
            b"endobj",
        ),
        max_len=32768,
        short_runs=400,
    )


def _image_seeds() -> list[bytes]:
    from PIL import Image, PngImagePlugin

    seeds = []
    image = Image.new("RGB", (8, 6), (200, 30, 30))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Erika Mustermann")
    exif = Image.Exif()
    exif[0x010F] = "Camera"  # Make
    for kind, options in (
        ("PNG", {"pnginfo": info, "exif": exif}),
        ("JPEG", {"exif": exif, "comment": b"GPS 52.5,13.4"}),
        ("JPEG", {"progressive": True, "quality": 50}),
    ):
        out = io.BytesIO()
        image.save(out, kind, **options)
        seeds.append(out.getvalue())
    out = io.BytesIO()
    image.convert("P").save(out, "PNG")
    seeds.append(out.getvalue())
    return seeds


def image() -> Target:
    run = _sanitize_run(_workdir("image"))
    return Target(
        "image",
        "vault.sanitize.sanitize_file (JPEG and PNG: metadata stripping, then Pillow decodes)",
        run,
        _image_seeds(),
        tokens=(
            b"IHDR",
            b"IDAT",
            b"IEND",
            b"tEXt",
            b"eXIf",
            b"acTL",
            b"\xff\xe1",
            b"\xff\xda",
            b"\xff\xd9",
            b"\xff\xc0",
            b"\xff\xfe",
        ),
        max_len=16384,
        short_runs=1500,
    )
