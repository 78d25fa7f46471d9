"""The README and the role guides, followed literally: every shell and Python block runs, in
order, against the embedded default on a free port, as a new user would run it.

For each Markdown file the test makes what a user has after cloning and ``make run``: a home
directory (``HOME``, ``OZG_CLIENT_DIR`` inside it, never the real ``~/.config``), the clone at
``~/ozg-commons`` with its ``.venv`` (the interpreter running this test) and a fresh data
directory ``var/`` (a fresh database; the demo authorities' RSA keys are made once per run
and copied, as every app fixture does). ``ozg-commons`` is not on ``PATH`` until a block
activates the venv. Each block runs in its own bash (``set -eo pipefail``) that starts where
the previous one ended: the working directory, shell variables, exported variables and
functions carry over, like one terminal. Python blocks run with the ``python`` on ``PATH``.

The markers (HTML comments on the lines right before a fenced block; README,
"Docs that run"):

- ``<!-- not-run: REASON -->``: the block is not run (production settings, CI servers);
  every ``make TARGET`` in it must be a target of the Makefile.
- ``<!-- starts-server -->``: the block starts the server (``make run``); the test starts
  ``ozg-commons serve`` from the clone on a free port instead, and checks the make targets.
  Blocks after it reach the server; ``127.0.0.1:8000`` in a block means its port, and
  ``OZG_SERVER_URL`` is set to it.
- ``<!-- stdin: TEXT -->``: what the user types at the block's prompts (a line each).
- ``<!-- exit: N -->``: the block must end with exit status N (a refusal shown on purpose).
- ``<!-- output -->`` before a ``text`` block: each of its lines must appear, in this order,
  in what the previous block printed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    "README.md",
    "docs/guide-applicant.md",
    "docs/guide-caseworker.md",
    "docs/guide-dpo.md",
    "docs/guide-operator.md",
]
RUN_LANGUAGES = {"sh": "sh", "bash": "sh", "shell": "sh", "python": "python"}
MARKERS = {"not-run", "starts-server", "stdin", "exit", "output"}
BLOCK_TIMEOUT = 240.0  # seconds; the machine running CI may be busy
DEFAULT_PORT = "127.0.0.1:8000"

_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)\s*(.*)$")
_MARKER = re.compile(r"^<!--\s*([a-z-]+)\s*(?::\s*(.*?))?\s*-->$", re.DOTALL)
_MAKE = re.compile(r"(?:^|[;&|]\s*|^\S+=\S*\s+)make\s+([A-Za-z][\w.-]*)", re.MULTILINE)


@dataclass
class Block:
    path: str
    line: int
    lang: str  # the info string: sh, python, text, ...
    text: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def runs(self) -> bool:
        return self.lang in RUN_LANGUAGES and not {"not-run", "starts-server"} & self.markers.keys()

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def parse_blocks(markdown: str, path: str = "<text>") -> list[Block]:
    """The fenced blocks of ``markdown`` with the markers right before each (blank lines
    between are allowed, any other line clears them). Unknown comments are plain comments;
    a known marker that does not parse is an error."""
    blocks: list[Block] = []
    pending: dict[str, str] = {}
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        fence = _FENCE.match(stripped)
        if stripped.startswith("<!--"):
            comment = [stripped]
            while not comment[-1].endswith("-->") and i + 1 < len(lines):
                i += 1
                comment.append(lines[i])
            text = "\n".join(comment)
            marker = _MARKER.match(text)
            if marker and marker.group(1) in MARKERS:
                pending[marker.group(1)] = (marker.group(2) or "").strip()
        elif fence:
            start, ticks, lang = i + 1, fence.group(1), fence.group(2).lower()
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(ticks):
                body.append(lines[i])
                i += 1
            blocks.append(Block(path, start, lang, "\n".join(body) + "\n", pending))
            pending = {}
        elif stripped:
            pending = {}
        i += 1
    for block in blocks:
        _check_markers(block)
    return blocks


def _check_markers(block: Block) -> None:
    marks = block.markers
    if "not-run" in marks and not marks["not-run"]:
        raise ValueError(f"{block.where()}: not-run needs a reason")
    if "exit" in marks and not marks["exit"].isdigit():
        raise ValueError(f"{block.where()}: exit needs a number, not {marks['exit']!r}")
    if "output" in marks and block.lang != "text":
        raise ValueError(f"{block.where()}: output marks a ```text block")
    if marks.keys() - {"output"} and block.lang not in RUN_LANGUAGES:
        raise ValueError(f"{block.where()}: a marker on a ```{block.lang} block is ignored")


def make_targets(text: str) -> list[str]:
    return _MAKE.findall(text)


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.MULTILINE))


# --------------------------------------------------------------------------- the runner
_SAVE_STATE = r"""
__ozg_save() {
  local __rc=$? __n
  {
    for __n in $(compgen -v); do
      case $__n in
        BASH*|SHELLOPTS|EUID|PPID|UID|SHLVL|PWD|OLDPWD|_|FUNCNAME|GROUPS|DIRSTACK|PIPESTATUS\
        |RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|EPOCHSECONDS|EPOCHREALTIME|COMP_WORDBREAKS\
        |IFS|OPTIND|OPTARG|OPTERR|PS4|__*) continue ;;
      esac
      [[ $(declare -p "$__n" 2>/dev/null) =~ ^declare\ -[a-zA-Z]*r ]] && continue
      declare -p "$__n" 2>/dev/null
    done
    for __n in $(declare -F | awk '{print $3}'); do
      case $__n in __ozg_*) ;; *) declare -f "$__n" ;; esac
    done
  } > "$__OZG_STATE/state.sh"
  pwd > "$__OZG_STATE/cwd"
  exit $__rc
}
"""


@dataclass
class Ran:
    code: int
    output: str


class Shell:
    """One user's terminal: blocks run one after another, state carried between them."""

    def __init__(self, home: Path, env: dict[str, str], start: Path) -> None:
        self.state = home.parent / "shell-state"
        self.state.mkdir()
        (self.state / "state.sh").write_text("")
        (self.state / "cwd").write_text(str(start))
        self.env = env

    def run(self, script: str, stdin: str | None) -> Ran:
        cwd = (self.state / "cwd").read_text().strip()
        program = (
            f"{_SAVE_STATE}\ntrap __ozg_save EXIT\n"
            f'source "$__OZG_STATE/state.sh"\ncd {_quote(cwd)}\n'
            f"set -eo pipefail\n{script}"
        )
        path = self.state / "block.sh"
        path.write_text(program)
        env = {**self.env, "__OZG_STATE": str(self.state)}
        process = subprocess.Popen(
            ["/bin/bash", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,  # no terminal: prompts read the piped stdin
            text=True,
        )
        try:
            output, _ = process.communicate(f"{stdin}\n" if stdin else "", timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            return Ran(-1, output + f"\n[timed out after {BLOCK_TIMEOUT:.0f} s]")
        return Ran(process.returncode, output)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``ozg-commons serve`` from the clone, as ``make run`` starts it."""

    def __init__(self, clone: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = clone.parent.parent / "server.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**env, "OZG_DATA_DIR": str(clone / "var")}, cwd=clone,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited ({self.process.returncode}):\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"the server did not answer /healthz in 180 s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def seeded_data(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data made once per run, plus the development routing key (one more RSA key
    the server would make on its first route)."""
    from commons.settings import Settings
    from gateway.authorities.routing import load_routing_key

    path = tmp_path_factory.mktemp("readme-data") / "var"
    shutil.copytree(demo_data_dir, path)
    load_routing_key(Settings(data_dir=path))
    return path


def _user_env(home: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.prefix) / "bin")
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    keep = {"PYTHONPATH", "TMPDIR", "SYSTEMROOT"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        HOME=str(home),
        PATH=os.pathsep.join(path or ["/usr/local/bin", "/usr/bin", "/bin"]),
        OZG_CLIENT_DIR=str(home / ".config" / "ozg-commons"),
        LANG="C.UTF-8",
        TERM="dumb",
        NO_COLOR="1",
        COLUMNS="160",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture
def user(tmp_path: Path, seeded_data: Path) -> tuple[Path, dict[str, str]]:
    """A home with the clone in it (``~/ozg-commons``: ``.venv`` and a fresh ``var/``)."""
    home = tmp_path / "home"
    clone = home / "ozg-commons"
    clone.mkdir(parents=True)
    (clone / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    shutil.copytree(seeded_data, clone / "var")
    return home, _user_env(home)


def _failure(block: Block, ran: Ran, why: str, server: Server | None) -> str:
    text = (
        f"{block.where()}: {why}\n--- the block ({block.lang}):\n{block.text}"
        f"--- its output (exit {ran.code}):\n{ran.output[-6000:]}"
    )
    if server is not None:
        text += f"\n--- the server's log (last lines):\n{server.tail()}"
    return text


def _script(block: Block, port: int | None) -> str:
    text = block.text if port is None else block.text.replace(DEFAULT_PORT, f"127.0.0.1:{port}")
    if RUN_LANGUAGES[block.lang] == "python":
        return f"python - <<'__OZG_PYTHON__'\n{text}__OZG_PYTHON__\n"
    return text


def _check_output(block: Block, previous: Ran, port: int | None) -> str | None:
    output, at = previous.output, 0
    for line in block.text.splitlines():
        want = line.strip()
        if port is not None:
            want = want.replace(DEFAULT_PORT, f"127.0.0.1:{port}")
        if not want:
            continue
        found = output.find(want, at)
        if found < 0:
            return f"the line {want!r} is not in the output (in this order)"
        at = found + len(want)
    return None


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_block_runs_as_written(
    document: str, user: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    home, env = user
    blocks = parse_blocks((ROOT / document).read_text(encoding="utf-8"), document)
    targets = makefile_targets()
    shell = Shell(home, env, start=home / "ozg-commons" if document == "README.md" else home)
    server: Server | None = None
    previous: tuple[Block, Ran] | None = None
    try:
        for block in blocks:
            if "output" in block.markers:
                assert previous is not None, f"{block.where()}: no block before the output"
                problem = _check_output(block, previous[1], server.port if server else None)
                assert problem is None, _failure(previous[0], previous[1], problem or "", server)
                continue
            if block.lang not in RUN_LANGUAGES:
                continue
            missing = [t for t in make_targets(block.text) if t not in targets]
            assert not missing, f"{block.where()}: no Makefile target {missing}"
            if "starts-server" in block.markers:
                assert server is None, f"{block.where()}: the server runs already"
                began = time.monotonic()
                server = Server(home / "ozg-commons", env)
                print(f"{block.where()}: server up in {time.monotonic() - began:.1f} s")
                shell.env["OZG_SERVER_URL"] = server.url
                continue
            if not block.runs:
                continue
            began = time.monotonic()
            ran = shell.run(
                _script(block, server.port if server else None), block.markers.get("stdin")
            )
            print(f"{block.where()}: {time.monotonic() - began:.1f} s")  # shown with -rP
            expected = int(block.markers.get("exit", "0"))
            assert ran.code == expected, _failure(
                block, ran, f"exit status {ran.code}, expected {expected}", server
            )
            previous = (block, ran)
    finally:
        if server is not None:
            server.stop()


# --------------------------------------------------------------------------- the parser
SAMPLE = """\
Text.

```sh
echo one
```

<!-- not-run: production settings -->
```sh
make run
```

<!-- stdin:
first
second
-->
<!-- exit: 3 -->

```bash
read a; read b; exit 3
```
<!-- output -->
```text
first
```
<!-- a comment -->
```console
$ not run
```
<!-- not-run: cleared by text -->
Some text.
```python
print(1)
```
"""


def test_the_markers_apply_to_the_next_block_only() -> None:
    blocks = parse_blocks(SAMPLE)
    assert [(b.lang, b.runs) for b in blocks] == [
        ("sh", True), ("sh", False), ("bash", True), ("text", False), ("console", False),
        ("python", True),
    ]  # fmt: skip
    assert blocks[1].markers == {"not-run": "production settings"}
    assert make_targets(blocks[1].text) == ["run"]
    assert blocks[2].markers == {"stdin": "first\nsecond", "exit": "3"}
    assert blocks[3].markers == {"output": ""}
    assert blocks[5].markers == {}


def test_a_marker_without_its_value_is_refused() -> None:
    with pytest.raises(ValueError, match="not-run needs a reason"):
        parse_blocks("<!-- not-run -->\n```sh\ntrue\n```\n")
    with pytest.raises(ValueError, match="exit needs a number"):
        parse_blocks("<!-- exit: two -->\n```sh\nexit 2\n```\n")


def test_make_targets_are_read_from_the_makefile() -> None:
    assert {"run", "test", "lint"} <= makefile_targets()
    assert make_targets("OZG_X=1 make test\nmake run PORT=8080  # comment\n") == ["test", "run"]
