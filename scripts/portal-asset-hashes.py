"""Print the SHA-384 of every file the portal serves from gateway/portal/static, as
Subresource-Integrity values (``sha384-<base64>``), so that an applicant or an auditor can
compare what their browser received with the published list (docs/portal-crypto.md):

    python3 scripts/portal-asset-hashes.py            # the files in this checkout
    python3 scripts/portal-asset-hashes.py --json     # the same as JSON {path: integrity}
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "gateway" / "portal" / "static"
SKIP = {"package.json"}  # only tells Node that the modules are ES modules; never served


def integrity(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def main(argv: list[str]) -> int:
    hashes = {
        str(p.relative_to(STATIC.parent)): integrity(p)
        for p in sorted(STATIC.rglob("*"))
        if p.is_file() and p.name not in SKIP
    }
    if "--json" in argv:
        print(json.dumps(hashes, indent=1))
    else:
        for path, value in hashes.items():
            print(f"{value}  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
