"""Copy the served browser assets from ``assets/node_modules`` (installed by ``npm ci``
from ``assets/package-lock.json``) into ``static/vendor/``, and write their SHA-256 sums.

    python -m gateway.portal.assets          # after: npm ci --prefix gateway/portal/assets

``make run`` and ``make test`` do both. ``static/vendor/SHA256SUMS`` lists every served
vendor file with its hash, so an auditor can compare what the portal serves with the npm
packages named in the lock file (docs/portal.md).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
NODE_MODULES = ASSETS_DIR / "node_modules"
VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
STAMP = VENDOR_DIR / ".installed"

#: (source under node_modules, destination under static/vendor); a directory copies whole.
MANIFEST: tuple[tuple[str, str], ...] = (
    ("@kern-ux/native/dist/kern.min.css", "kern/kern.min.css"),
    ("@kern-ux/native/dist/fonts/fira-sans.css", "kern/fonts/fira-sans.css"),
    ("@kern-ux/native/dist/fonts/fira-sans", "kern/fonts/fira-sans"),
    ("@kern-ux/native/LICENSE.md", "kern/LICENSE.md"),
    ("swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"),
    ("swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"),
    ("swagger-ui-dist/LICENSE", "swagger-ui/LICENSE"),
    ("redoc/bundles/redoc.standalone.js", "redoc/redoc.standalone.js"),
    ("redoc/LICENSE", "redoc/LICENSE"),
    # JSON Schema 2020-12 validation without eval (the CSP has no unsafe-eval; Ajv needs it)
    ("@cfworker/json-schema/dist/esm", "json-schema/esm"),
    ("@cfworker/json-schema/package.json", "json-schema/package.json"),
    # the PDF summary and the browser's PDF sanitizer
    ("pdf-lib/dist/pdf-lib.esm.min.js", "pdf-lib/pdf-lib.esm.min.js"),
    ("pdf-lib/LICENSE.md", "pdf-lib/LICENSE.md"),
    # passphrase strength (a classic script: window.zxcvbn)
    ("zxcvbn/dist/zxcvbn.js", "zxcvbn/zxcvbn.js"),
    ("zxcvbn/LICENSE.txt", "zxcvbn/LICENSE.txt"),
    # X.509 chains, CRLs and the authority binding of destination keys (UMD: window.x509)
    ("@peculiar/x509/build/x509.js", "x509/x509.js"),
    ("@peculiar/x509/LICENSE", "x509/LICENSE"),
    # x509.js calls Reflect.getMetadata: load this classic script before it
    ("reflect-metadata/Reflect.js", "x509/reflect-metadata.js"),
    ("reflect-metadata/LICENSE", "x509/reflect-metadata.LICENSE"),
)

#: Text replaced in a copied file, so that nothing is loaded from outside: ReDoc's sidebar
#: shows its vendor's logo from a CDN, replaced by the portal's own icon. ``SHA256SUMS``
#: lists the files as served (after the replacement).
REWRITES: dict[str, tuple[tuple[str, str], ...]] = {
    "redoc/redoc.standalone.js": (
        ("https://cdn.redoc.ly/redoc/logo-mini.svg", "/static/img/favicon.svg"),
    ),
}


def install(node_modules: Path = NODE_MODULES, vendor: Path = VENDOR_DIR) -> list[str]:
    """Copy the manifest's files; returns the ``SHA256SUMS`` lines."""
    missing = [src for src, _ in MANIFEST if not (node_modules / src).exists()]
    if missing:
        raise SystemExit(
            f"missing in {node_modules}: {', '.join(missing)}; run "
            "`npm ci --prefix gateway/portal/assets` first (make run / make test do it)"
        )
    for src, dest in MANIFEST:
        source, target = node_modules / src, vendor / dest
        # Replace only what the manifest copies: files vendored in the repository beside them
        # (static/vendor/hash-wasm, committed with its licence) stay.
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        for old, new in REWRITES.get(dest, ()):
            text = target.read_text(encoding="utf-8")
            if old not in text:
                raise SystemExit(f"{src}: expected {old!r} to replace; update REWRITES")
            target.write_text(text.replace(old, new), encoding="utf-8")
    sums = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(vendor).as_posix()}"
        for path in sorted(vendor.rglob("*"))
        if path.is_file()
    ]
    (vendor / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    STAMP.touch() if vendor == VENDOR_DIR else (vendor / ".installed").touch()
    return sums


def installed(vendor: Path = VENDOR_DIR) -> bool:
    return all((vendor / dest).exists() for _, dest in MANIFEST)


def main() -> None:
    sums = install()
    print(f"copied {len(sums)} files into {VENDOR_DIR}", file=sys.stderr)


if __name__ == "__main__":
    main()
