"""How far an import has got, for the page that waits on it.

The import runs in one transaction, so nothing it writes is visible until it commits; its
progress goes to the cache instead, which the page's progress endpoint reads while the import
runs (with CACHE_URL set, every web process shares it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.cache import cache

# Long enough for any file the size limit lets in; cleared when the import ends.
TIMEOUT_SECONDS = 15 * 60


@dataclass(frozen=True)
class Progress:
    step: int  # 1-based
    steps: int
    label: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        """Of the whole import: the steps behind, and this step's share done."""
        within = self.done / self.total if self.total else 1.0
        return min(100, int(((self.step - 1) + within) / self.steps * 100))


def _key(import_id: int) -> str:
    return f"console:roster-progress:{import_id}"


def report(import_id: int, progress: Progress) -> None:
    cache.set(_key(import_id), asdict(progress), TIMEOUT_SECONDS)


def current(import_id: int) -> Progress | None:
    found = cache.get(_key(import_id))
    return Progress(**found) if isinstance(found, dict) else None


def clear(import_id: int) -> None:
    cache.delete(_key(import_id))
