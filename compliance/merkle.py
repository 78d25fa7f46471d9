"""RFC 6962 / RFC 9162 Merkle trees: tree heads, inclusion and consistency proofs.

Hashing (RFC 9162 §2.1.1): a leaf hashes as ``SHA-256(0x00 || leaf)``, an inner node as
``SHA-256(0x01 || left || right)``; the tree of ``n`` leaves splits at the largest power of
two below ``n``. The empty tree's head is ``SHA-256("")``.

Storage model: a tree is kept as its *complete subtrees*. The node ``(level, index)`` is the
hash of leaves ``[index * 2**level, (index + 1) * 2**level)``; once a subtree is complete its
hash never changes, so appending only adds nodes. Every hash a proof needs is the hash of a
range that decomposes into at most ``log2(n)`` complete subtrees, so a proof at any size is
one batched lookup of ``O(log2(n)**2)`` stored nodes (:class:`NodeSource`), then hashing.

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 and raises one opaque error,
:class:`~compliance.errors.InvalidProof`, whatever is wrong.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from compliance.errors import InvalidProof

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]  # (level, index): the complete subtree of 2**level leaves at index


class NodeSource(Protocol):
    """Where stored complete-subtree hashes come from (memory, the database, a server)."""

    def get_nodes(self, nodes: Sequence[Node]) -> Mapping[Node, bytes]:
        """The hashes of ``nodes``; every requested node must be present."""
        ...


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees covering leaves ``[start, end)``, left to right.

    Only ranges whose ``start`` is aligned to their size (all ranges RFC 6962's proofs use)
    decompose this way into the subtrees their hash is defined by.
    """
    nodes: list[Node] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while (1 << level) > end - start:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from its complete subtrees (largest first): fold from the right."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def peaks(size: int) -> list[Node]:
    """The complete subtrees the tree of ``size`` leaves is made of, largest first."""
    return range_nodes(0, size)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form the inclusion proof of ``index`` (RFC 9162 PATH)."""
    if not 0 <= index < size:
        raise InvalidProof()
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form the consistency proof (RFC 9162 SUBPROOF)."""
    if not 0 <= size1 <= size2:
        raise InvalidProof()
    if size1 == 0 or size1 == size2:
        return []
    ranges: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, size2, size1, True
    while True:
        if m == hi - lo:
            if not complete:
                ranges.append((lo, hi))
            break
        k = split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    ranges.reverse()
    return ranges


def hash_ranges(ranges: Sequence[tuple[int, int]], source: NodeSource) -> list[bytes]:
    """The hashes of ``ranges``, fetched from ``source`` in one batch."""
    per_range = [range_nodes(a, b) for a, b in ranges]
    wanted = sorted({n for nodes in per_range for n in nodes})
    found = source.get_nodes(wanted) if wanted else {}
    try:
        return [fold([found[n] for n in nodes]) for nodes in per_range]
    except KeyError:
        raise LookupError("a node the proof needs is not stored") from None


def root(size: int, source: NodeSource) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return hash_ranges([(0, size)], source)[0]


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    return hash_ranges(inclusion_ranges(index, size), source)


def consistency_proof(size1: int, size2: int, source: NodeSource) -> list[bytes]:
    return hash_ranges(consistency_ranges(size1, size2), source)


# --------------------------------------------------------------------------- verification
def verify_inclusion(
    index: int, size: int, leaf_hash_: bytes, proof: Sequence[bytes], root_: bytes
) -> None:
    """RFC 9162 §2.1.3.2. Raise :class:`InvalidProof` unless the leaf is in the tree."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        raise InvalidProof()
    fn, sn, r = index, size - 1, leaf_hash_
    for p in proof:
        if sn == 0:
            raise InvalidProof()
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or not hmac.compare_digest(r, root_):
        raise InvalidProof()


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2. Raise :class:`InvalidProof` unless tree 2 extends tree 1."""
    if not 0 <= size1 <= size2 or any(len(p) != HASH_SIZE for p in proof):
        raise InvalidProof()
    if size1 == size2:
        if proof or not hmac.compare_digest(root1, root2):
            raise InvalidProof()
        return
    if size1 == 0:
        if proof or not hmac.compare_digest(root1, EMPTY_ROOT):
            raise InvalidProof()
        return
    if not proof:
        raise InvalidProof()
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof()
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or not (hmac.compare_digest(fr, root1) and hmac.compare_digest(sr, root2)):
        raise InvalidProof()


# --------------------------------------------------------------------------- appending
def edge_nodes(size: int) -> list[Node]:
    """The stored nodes an append to a tree of ``size`` leaves needs (its peaks)."""
    return peaks(size)


def extend(
    size: int, new_leaf_hashes: Sequence[bytes], edge: Mapping[Node, bytes]
) -> dict[Node, bytes]:
    """Every complete subtree that appending ``new_leaf_hashes`` creates.

    ``edge`` holds the nodes of :func:`edge_nodes` for the old size. The result includes the
    new leaves themselves (level 0).
    """
    nodes: dict[Node, bytes] = {(0, size + i): h for i, h in enumerate(new_leaf_hashes)}
    new_size = size + len(new_leaf_hashes)

    def get(node: Node) -> bytes:
        found = nodes.get(node)
        return found if found is not None else edge[node]

    level = 1
    while new_size >> level:
        for i in range(size >> level, new_size >> level):
            nodes[(level, i)] = node_hash(get((level - 1, 2 * i)), get((level - 1, 2 * i + 1)))
        level += 1
    return nodes


class MemoryTree:
    """A tree held in memory: for tests, verifiers and exports."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._nodes: dict[Node, bytes] = {}
        self.size = 0
        for leaf in leaves:
            self.append_hash(leaf_hash(leaf))

    def append_hash(self, hash_: bytes) -> None:
        self.extend_hashes([hash_])

    def extend_hashes(self, hashes: Sequence[bytes]) -> None:
        edge = {n: self._nodes[n] for n in edge_nodes(self.size)}
        self._nodes.update(extend(self.size, hashes, edge))
        self.size += len(hashes)

    def get_nodes(self, nodes: Sequence[Node]) -> Mapping[Node, bytes]:
        return {n: self._nodes[n] for n in nodes}

    def root(self, size: int | None = None) -> bytes:
        return root(self.size if size is None else size, self)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self.size if size is None else size, self)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(size1, self.size if size2 is None else size2, self)
