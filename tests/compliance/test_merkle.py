"""RFC 6962 hashing and proofs: published vectors, random trees, tampering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.errors import InvalidProof
from compliance.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    leaf_hash,
    node_hash,
    split,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "rfc6962.json").read_text())
LEAVES = [bytes.fromhex(x) for x in VECTORS["leaves"]]


def naive_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written straight from the definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = split(len(leaves))
    return node_hash(naive_mth(leaves[:k]), naive_mth(leaves[k:]))


def test_roots_match_the_published_vectors() -> None:
    assert MemoryTree().root() == EMPTY_ROOT == bytes.fromhex(VECTORS["empty_root"])
    tree = MemoryTree(LEAVES)
    for size, expected in enumerate(VECTORS["roots"], start=1):
        assert tree.root(size).hex() == expected


@pytest.mark.parametrize("case", VECTORS["inclusion"])
def test_inclusion_proofs_match_the_published_vectors(case: dict[str, object]) -> None:
    index, size = int(case["index"]), int(case["size"])  # type: ignore[call-overload]
    expected = [bytes.fromhex(h) for h in case["proof"]]  # type: ignore[attr-defined]
    tree = MemoryTree(LEAVES)
    assert tree.inclusion_proof(index, size) == expected
    verify_inclusion(index, size, leaf_hash(LEAVES[index]), expected, tree.root(size))


@pytest.mark.parametrize("case", VECTORS["consistency"])
def test_consistency_proofs_match_the_published_vectors(case: dict[str, object]) -> None:
    size1, size2 = int(case["size1"]), int(case["size2"])  # type: ignore[call-overload]
    expected = [bytes.fromhex(h) for h in case["proof"]]  # type: ignore[attr-defined]
    tree = MemoryTree(LEAVES)
    assert tree.consistency_proof(size1, size2) == expected
    verify_consistency(size1, size2, tree.root(size1), tree.root(size2), expected)


def test_every_proof_of_small_trees_verifies_and_every_flipped_bit_fails() -> None:
    leaves = [i.to_bytes(2, "big") for i in range(40)]
    tree = MemoryTree(leaves)
    for size in range(1, 41):
        root = tree.root(size)
        assert root == naive_mth(leaves[:size])
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            verify_inclusion(index, size, leaf_hash(leaves[index]), proof, root)
            with pytest.raises(InvalidProof):
                verify_inclusion(index, size, leaf_hash(b"other"), proof, root)
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
                with pytest.raises(InvalidProof):
                    verify_inclusion(index, size, leaf_hash(leaves[index]), bad, root)
            with pytest.raises(InvalidProof):
                verify_inclusion(index, size, leaf_hash(leaves[index]), [*proof, root], root)
            if proof:
                with pytest.raises(InvalidProof):
                    verify_inclusion(index, size, leaf_hash(leaves[index]), proof[:-1], root)
        for old in range(size + 1):
            proof = tree.consistency_proof(old, size)
            verify_consistency(old, size, tree.root(old), root, proof)
            if 0 < old < size:
                with pytest.raises(InvalidProof):
                    verify_consistency(old, size, EMPTY_ROOT, root, proof)
                for i in range(len(proof)):
                    bad = list(proof)
                    bad[i] = bad[i][:-1] + bytes([bad[i][-1] ^ 0x80])
                    with pytest.raises(InvalidProof):
                        verify_consistency(old, size, tree.root(old), root, bad)


def test_out_of_range_arguments_fail_closed() -> None:
    with pytest.raises(InvalidProof):
        verify_inclusion(3, 3, EMPTY_ROOT, [], EMPTY_ROOT)
    with pytest.raises(InvalidProof):
        verify_consistency(5, 4, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(InvalidProof):
        verify_consistency(3, 5, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(InvalidProof):
        verify_inclusion(0, 2, EMPTY_ROOT, [b"short"], EMPTY_ROOT)
    with pytest.raises(InvalidProof):
        MemoryTree(LEAVES).inclusion_proof(8, 8)


@settings(max_examples=60, deadline=None)
@given(
    leaves=st.lists(st.binary(max_size=8), min_size=1, max_size=300),
    data=st.data(),
)
def test_random_trees_and_batches(leaves: list[bytes], data: st.DataObject) -> None:
    # Built in random batches, the tree equals the one built leaf by leaf and the definition.
    tree = MemoryTree()
    i = 0
    while i < len(leaves):
        n = data.draw(st.integers(1, len(leaves) - i))
        tree.extend_hashes([leaf_hash(x) for x in leaves[i : i + n]])
        i += n
    size = len(leaves)
    assert tree.root() == naive_mth(leaves)
    index = data.draw(st.integers(0, size - 1))
    at = data.draw(st.integers(index + 1, size))
    verify_inclusion(
        index, at, leaf_hash(leaves[index]), tree.inclusion_proof(index, at), naive_mth(leaves[:at])
    )
    old = data.draw(st.integers(0, at))
    verify_consistency(
        old, at, naive_mth(leaves[:old]), naive_mth(leaves[:at]), tree.consistency_proof(old, at)
    )
    if 0 < old < at:
        other = [*leaves[: old - 1], leaves[old - 1] + b"x"]
        with pytest.raises(InvalidProof):
            verify_consistency(
                old, at, naive_mth(other), naive_mth(leaves[:at]), tree.consistency_proof(old, at)
            )
