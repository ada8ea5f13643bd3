"""Query-time use of the aliases mined at ingest: everyday words reach the medical terms articles define."""
from __future__ import annotations

from collections.abc import Callable

from ingest.lexical import tokenize


class AliasTable:
    """Groups of names the articles define as equivalent ("muscle twitches" = "fasciculations").

    A name matches a query when the query holds at least half of the name's stems, including its rarest
    one, so "twitching" matches "muscle twitches" but "muscle pain" does not.
    """

    def __init__(self, groups: list[list[tuple[str, ...]]], surfaces: list[list[str]] | None = None) -> None:
        self.groups = groups
        self.surfaces = surfaces or [[" ".join(name) for name in names] for names in groups]
        self._by_stem: dict[str, list[int]] = {}
        for number, names in enumerate(groups):
            for name in names:
                for stem in name:
                    self._by_stem.setdefault(stem, []).append(number)

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str]]) -> AliasTable:
        """Build from (term, alias) pairs: names with the same stems are one node, and pairs sharing a node join
        one group (union-find). Each name keeps the first way the articles wrote it."""
        names = sorted({name for row in rows for name in row})
        stems = {name: tuple(tokens) for name, tokens in zip(names, tokenize(names))} if names else {}
        surface: dict[tuple[str, ...], str] = {}
        for name in names:
            if stems[name]:
                surface.setdefault(stems[name], name)
        parent = {node: node for node in surface}

        def find(node: tuple[str, ...]) -> tuple[str, ...]:
            while parent[node] != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        for term, alias in rows:
            if stems.get(term) and stems.get(alias):
                parent[find(stems[term])] = find(stems[alias])
        groups: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for node in sorted(surface):
            groups.setdefault(find(node), []).append(node)
        kept = [nodes for nodes in groups.values() if len(nodes) > 1]
        return cls(kept, [[surface[node] for node in nodes] for nodes in kept])

    def matched(self, query_stems: list[str], document_frequency: Callable[[str], int]) -> list[int]:
        """Numbers of the groups one of whose names the query holds."""
        present = set(query_stems)
        candidates = {g for stem in present for g in self._by_stem.get(stem, ())}
        return [n for n in sorted(candidates)
                if any(_matches(name, present, document_frequency) for name in self.groups[n])]

    def expand(self, query_stems: list[str], document_frequency: Callable[[str], int]) -> list[str]:
        """Stems to add to a query: the other names of every group one of whose names the query holds."""
        present = set(query_stems)
        added: list[str] = []
        for number in self.matched(query_stems, document_frequency):
            for name in self.groups[number]:
                added.extend(s for s in name if s not in present and s not in added)
        return added

    def names(self, query_stems: list[str], document_frequency: Callable[[str], int]) -> list[str]:
        """The names, as written in the articles, of the groups the query matches but does not spell out."""
        present = set(query_stems)
        return [surface for number in self.matched(query_stems, document_frequency)
                for name, surface in zip(self.groups[number], self.surfaces[number]) if not set(name) <= present]


def _matches(name: tuple[str, ...], present: set[str], document_frequency: Callable[[str], int]) -> bool:
    found = [s for s in name if s in present]
    if 2 * len(found) < len(name):
        return False
    rarest = min(name, key=document_frequency)
    return rarest in present
