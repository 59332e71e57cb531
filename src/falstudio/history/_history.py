"""``falstudio.history()``: the run records on disk as a list you can filter, display and resume."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from falstudio._internal.gc_pause import gc_paused
from falstudio._internal.since import since_timestamp

from ._record import IN_FLIGHT, STATES, RunRecord, state_words
from ._store import HistoryStore

if TYPE_CHECKING:
    from falstudio.client import ClientLike

    from ._spend import Spend


class History(Sequence[RunRecord]):
    """A snapshot of run records, newest first. Call ``falstudio.history()`` again to re-read the folder."""

    def __init__(self, records: Iterable[RunRecord], store: HistoryStore, since: float | None = None) -> None:
        self._records = list(records)
        self.store = store
        self.since = since  # the POSIX time ``history(since=...)`` started from, if any

    @overload
    def __getitem__(self, index: int) -> RunRecord: ...
    @overload
    def __getitem__(self, index: slice) -> History: ...
    def __getitem__(self, index: int | slice) -> RunRecord | History:
        if isinstance(index, slice):
            return History(self._records[index], self.store, self.since)
        return self._records[index]

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(self._records)

    def filter(
        self,
        *,
        endpoint: str | None = None,
        text: str | None = None,
        state: str | Iterable[str] | None = None,
        limit: int | None = None,
    ) -> History:
        """The records matching every given condition (see :func:`history`)."""
        match = _matcher(endpoint, text, state)
        return History(_take((r for r in self._records if match(r)), limit), self.store, self.since)

    @property
    def in_flight(self) -> History:
        """Records whose request was submitted and whose result was never recorded."""
        return self.filter(state=IN_FLIGHT)

    def spent(self, since: object = None) -> Spend:
        """What these records spent: estimates of succeeded requests (and those in flight), fal's billed units,
        by endpoint, offline and fal.ai apart.

        ``since``: ``"today"``, ``"yesterday"``, a duration such as ``"2h"`` or ``"7d"``, a date, a datetime
        (naive = local time), a ``timedelta``, an ISO date string, or None for every record here (since what
        ``history(since=...)`` was given, if it was).
        """
        from ._spend import summarize

        return summarize(self._records, self.since if since is None else since_timestamp(since))

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write these records' images (with how they were made in each file) and ``manifest.json`` /
        ``manifest.csv`` of their parameters (secrets redacted) into the folder ``path``; returns the folder."""
        from ._export import export_records

        return export_records(self._records, path)

    def get(self, request_id: str) -> RunRecord:
        for record in self._records:
            if record.request_id == request_id:
                return record
        raise KeyError(f"no run record with request id {request_id!r} in this history")

    def resume(self, client: ClientLike | None = None, *, timeout: float | None = None) -> list[RunRecord]:
        """Re-attach to every in-flight record and fetch its result; returns the updated records.

        See :meth:`RunRecord.resume` for how a client is found. Records that cannot be resumed right now
        (no credentials, server unreachable for a fal request) stay in flight, with a warning.
        """
        from ._resume import resume

        updated = []
        for i, record in enumerate(self._records):
            if record.in_flight:
                self._records[i] = resume(self.store, record, client=client, timeout=timeout)
                updated.append(self._records[i])
        return updated

    def __repr__(self) -> str:
        from ._display import records_text

        return records_text(self._records, len(self._records))

    def _repr_html_(self) -> str:
        from ._display import records_html

        return records_html(self._records, len(self._records), str(self.store.root))


def history(
    *,
    endpoint: str | None = None,
    text: str | None = None,
    state: str | Iterable[str] | None = None,
    limit: int | None = None,
    path: str | os.PathLike[str] | None = None,
    since: object = None,
) -> History:
    """Run records made through falstudio, newest first.

    ``endpoint``: part of the endpoint id (``"1.5/edit"``); ``text``: part of the prompt (case-insensitive);
    ``state``: one of submitting, queued, done, failed, cancelled, lost (or several; the older words completed and
    submitted still name done and both in-flight states); ``limit``: at most this
    many; ``path``: the history folder (default ``$FALSTUDIO_HISTORY_DIR``, else the per-user data dir);
    ``since``: only records made since then (``"today"``, ``"2h"``, a date...; see :meth:`History.spent`).
    Unreadable record files are skipped with a :class:`HistoryWarning`.
    """
    from falstudio.client.recorder import flush

    flush()  # what this process finished so far is written by the recorder's thread: let it catch up
    store = HistoryStore(path)
    match = _matcher(endpoint, text, state)
    when = since_timestamp(since)
    if when is None:
        with gc_paused():
            return History(_take((r for r in store if match(r)), limit), store)
    from ._spend import records_since

    with gc_paused():
        return History(_take((r for r in records_since(store, when) if match(r)), limit), store, when)


def _matcher(endpoint: str | None, text: str | None, state: str | Iterable[str] | None) -> Any:
    for name, value in (("endpoint", endpoint), ("text", text)):
        if value is not None and not isinstance(value, str):
            part = "endpoint id" if name == "endpoint" else "prompt"
            raise TypeError(f"{name} must be a string (part of the {part}), not {type(value).__name__}")
    states = None
    if state is not None:
        given = {state} if isinstance(state, str) else set(state) if isinstance(state, Iterable) else {state}
        states = {w for word in given for w in (state_words(word) if isinstance(word, str) else (word,))}
        unknown = states - set(STATES)
        if unknown:
            raise ValueError(
                f"state must be one of {', '.join(STATES)} (or a list of them); "
                f"got {', '.join(sorted(map(repr, unknown)))}"
            )
    endpoint_part = endpoint.lower() if endpoint else None
    text_part = text.lower() if text else None

    def match(record: RunRecord) -> bool:
        return (
            (states is None or record.state in states)
            and (endpoint_part is None or endpoint_part in record.endpoint.lower())
            and (text_part is None or text_part in record.prompt.lower())
        )

    return match


def _take(records: Iterator[RunRecord] | Iterable[RunRecord], limit: int | None) -> list[RunRecord]:
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit must be a whole number, 0 or more; got {limit!r}")
    taken: list[RunRecord] = []
    if limit == 0:
        return taken
    for record in records:
        taken.append(record)
        if limit is not None and len(taken) >= limit:
            break  # stop reading files
    return taken
