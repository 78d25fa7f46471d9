"""A small mutation fuzzer over seed inputs: the engine of the short runs in the test suite
(deterministic for a given seed) and of ``make fuzz`` when atheris is not installed.

It is not coverage-guided (atheris is, in ``benchmarks/fuzz_parsers.py``); it makes up for
that with structure: every input starts from a valid seed, and the mutations include the
ones that found bugs here before (deep nesting, huge numbers, non-ASCII digits, lone
surrogates, splices of two seeds).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

# Byte strings worth inserting into any parser's input.
COMMON_TOKENS: tuple[bytes, ...] = (
    b"[",
    b"{",
    b'"',
    b",",
    b":",
    b".",
    b"=",
    b"\n",
    b"\x00",
    b"\xff",
    b"-1",
    b"0",
    b"1e400",
    b"-0.0",
    b"NaN",
    b"Infinity",
    b"true",
    b"null",
    b"9223372036854775808",
    b"1" * 400,
    "\u00b2".encode(),  # SUPERSCRIPT TWO: str.isdigit() says yes, int() says no
    "\u0663".encode(),  # ARABIC-INDIC DIGIT THREE: int() reads it as 3
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate (invalid UTF-8)
    b"\\ud800",  # a lone surrogate as a JSON escape
    "\u2014".encode(),
)

_INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x0A, 0x2E, 0x5B, 0x7B)


class Mutator:
    """Inputs derived from ``seeds`` by one to four random edits each."""

    def __init__(
        self,
        seeds: Sequence[bytes],
        *,
        tokens: Sequence[bytes] = (),
        max_len: int = 65536,
        seed: int = 0,
    ) -> None:
        if not seeds:
            raise ValueError("a mutator needs at least one seed")
        self.seeds = list(seeds)
        self.tokens = list(tokens) + list(COMMON_TOKENS)
        self.max_len = max_len
        self.rng = random.Random(seed)
        self._ops: list[Callable[[bytearray], None]] = [
            self._flip_bit,
            self._set_byte,
            self._insert_random,
            self._delete_range,
            self._duplicate_range,
            self._insert_token,
            self._insert_token,
            self._repeat_token,
            self._nest_json,
            self._splice,
            self._truncate,
        ]

    def __iter__(self) -> Mutator:
        return self

    def __next__(self) -> bytes:
        rng = self.rng
        data = bytearray(rng.choice(self.seeds))
        if rng.random() < 0.02:
            return bytes(data)  # seeds themselves, now and then
        for _ in range(rng.randint(1, 4)):
            rng.choice(self._ops)(data)
        return bytes(data[: self.max_len])

    def _pos(self, data: bytearray) -> int:
        return self.rng.randint(0, len(data))

    def _flip_bit(self, data: bytearray) -> None:
        if data:
            i = self.rng.randrange(len(data))
            data[i] ^= 1 << self.rng.randrange(8)

    def _set_byte(self, data: bytearray) -> None:
        if data:
            i = self.rng.randrange(len(data))
            data[i] = self.rng.choice((*_INTERESTING_BYTES, self.rng.randrange(256)))

    def _insert_random(self, data: bytearray) -> None:
        i = self._pos(data)
        data[i:i] = self.rng.randbytes(self.rng.randint(1, 8))

    def _delete_range(self, data: bytearray) -> None:
        if data:
            i = self.rng.randrange(len(data))
            del data[i : i + self.rng.randint(1, 32)]

    def _duplicate_range(self, data: bytearray) -> None:
        if data:
            i = self.rng.randrange(len(data))
            piece = data[i : i + self.rng.randint(1, 64)]
            j = self._pos(data)
            data[j:j] = piece

    def _insert_token(self, data: bytearray) -> None:
        i = self._pos(data)
        token = self.rng.choice(self.tokens)
        if self.rng.random() < 0.5 and data:  # overwrite instead of insert
            data[i : i + len(token)] = token
        else:
            data[i:i] = token

    def _repeat_token(self, data: bytearray) -> None:
        i = self._pos(data)
        token = self.rng.choice((b"[", b"{", b'{"a":', b"[[", self.rng.choice(self.tokens)))
        data[i:i] = token * self.rng.choice((2, 16, 600, 1500, 5000))

    def _nest_json(self, data: bytearray) -> None:
        """Insert a value nested hundreds of levels deep where JSON takes a value (after a
        ``:`` or a ``[``), so that the document stays valid JSON: what ``json.loads`` accepts
        but the code after it may not."""
        places = [i + 1 for i, byte in enumerate(data) if byte in b":["]
        at = self.rng.choice(places) if places else 0
        opener, closer = self.rng.choice(((b"[", b"]"), (b'{"a":', b"}")))
        depth = self.rng.choice((300, 600, 990, 1500))
        follow = b',"zz":' if at and data[at - 1] == ord(":") else b","
        data[at:at] = opener * depth + b"0" + closer * depth + follow

    def _splice(self, data: bytearray) -> None:
        other = self.rng.choice(self.seeds)
        if other:
            i = self.rng.randrange(len(other))
            j = self._pos(data)
            data[j:] = other[i:]

    def _truncate(self, data: bytearray) -> None:
        del data[self._pos(data) :]
