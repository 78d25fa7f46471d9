"""gateway.fitconnect runs on the applicant's device and at the authority: no web, no database."""

from __future__ import annotations

import json
import subprocess
import sys


def test_importing_the_package_loads_neither_fastapi_nor_sqlalchemy() -> None:
    code = (
        "import json, sys\n"
        "import gateway.fitconnect, gateway.fitconnect.demo\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('fastapi', 'starlette', 'sqlalchemy', 'alembic'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == []
