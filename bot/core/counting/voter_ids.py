"""Refuse a voter listed twice in a ``.pb`` file without keeping every voter id.

A set of the ids of 500,000 voters takes about 40 MB, much more than their merged ballots
(a city's tens of thousands of voters cast a few thousand distinct ballots). Two things
keep that down, and neither ever misses or invents a repeat:

* Most real files list their voters in increasing order (``1, 2, 5, ...``; 35 of the 47 in
  ``shared/``, every large one): while every id comes after the one before in shortlex
  order (shorter first, then by character: ``v9`` before ``v10``), none can repeat, and
  only the last is kept.
* From the first id out of that order on, a hash table of 64-bit hashes in an
  ``array('Q')`` (8 bytes a slot, at most two thirds full) stands in for the set: the ids read so
  far are read again from the file to fill it. Equal hashes are not taken on trust: the
  earlier rows are read again to see whether the very same id is among them.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable

_MASK = (1 << 64) - 1
_FIRST_SIZE = 1 << 12


class VoterIds:
    """The voter ids of one VOTES section; ``earlier(line)`` reads again, from the source,
    the voter ids of the rows before ``line``."""

    def __init__(self, earlier: Callable[[int], Iterable[str]]) -> None:
        self._earlier = earlier
        self._last: tuple[int, str] | None = None  # while in order: the last id
        self._table: array[int] | None = None  # then: hashes (0: an empty slot)
        self._used = 0
        self.count = 0  # ids added

    def add(self, voter: str, line: int) -> bool:
        """Add ``voter`` (read at ``line``); False, adding nothing, if it came before."""
        if self._table is None:
            key = (len(voter), voter)
            if self._last is None or key > self._last:
                self._last = key
                self.count += 1
                return True
            self._table = array("Q", [0]) * _FIRST_SIZE
            for earlier in self._earlier(line):  # all different: they came in order
                self._put(_hash(earlier), earlier, 0)
        if not self._put(_hash(voter), voter, line):
            return False
        self.count += 1
        return True

    def _put(self, h: int, voter: str, line: int) -> bool:
        """Put ``h`` in the first empty slot from where it belongs (linear probing), unless
        ``voter`` is found before ``line`` (0: known not to be)."""
        table = self._table
        assert table is not None
        mask = len(table) - 1
        at = h & mask
        while slot := table[at]:
            if slot == h and line and voter in self._earlier(line):
                return False  # the same hash is not taken on trust: the same id, read again
            at = (at + 1) & mask
        table[at] = h
        self._used += 1
        if self._used * 3 > len(table) * 2:
            self._table = bigger = array("Q", [0]) * (2 * len(table))
            mask = len(bigger) - 1
            for old in filter(None, table):
                at = old & mask
                while bigger[at]:
                    at = (at + 1) & mask
                bigger[at] = old
        return True


def _hash(voter: str) -> int:
    """A 64-bit hash of ``voter``, never 0 (the empty slot)."""
    return hash(voter) & _MASK or 1
