"""``fs.Arena(compare)``: blind judging of a Compare's results, two at a time, with Bradley–Terry statistics.

Each pair shows two results for the same prompt from variations that differ in something else (endpoint,
quality, size…), labels hidden and sides drawn at random. A judge votes left, right, tie or both bad (click, or
the keys ← → T B); votes go to the history folder (``votes.jsonl``, see :class:`falstudio.history.VoteBook`), so
they outlive the kernel, and count again when an Arena of the same variations opens later. The table ranks the
variations by Bradley–Terry strength with 95 % bootstrap intervals, beside win counts, cost per image and latency.
The next pair is the least compared one, the closest in strength among those.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import random
import statistics
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..._internal.theme import COLOR, FONT_SMALL, esc, style
from ...history import Vote, VoteBook
from ...sweep import Job
from .._html import card
from .._pool import run_in_pool
from .._reader_view import ReaderView
from . import _ratings
from ._layout import value_text

if TYPE_CHECKING:
    from ._compare import Compare

_STATIC = pathlib.Path(__file__).parent.parent / "static"
_HIDDEN = {"prompt"}  # what every side of a pair shares


@dataclass(frozen=True)
class Entry:
    """One result a judge may see: which variation made it (``item``), for which prompt."""

    item: str
    prompt: str
    job: Job


@dataclass(frozen=True)
class Pair:
    number: int
    left: Entry
    right: Entry


def item_label(job: Job) -> str:
    """What a variation sets besides the prompt, e.g. ``endpoint=openai/gpt-image-2 · quality=high``."""
    params = {k: v for k, v in job.variation.params.items() if k not in _HIDDEN}
    return " · ".join(f"{k}={value_text(v)}" for k, v in params.items()) or job.variation.endpoint


class Arena(ReaderView, anywidget.AnyWidget):
    """Blind votes between the results of ``compare`` (run it first) and the ranking they make.

    ``judge``: who votes (each vote is stored under a name; several judges may share one Arena). ``votes``: the
    history folder to keep votes in (default: the history's). ``seed`` makes the pairs and sides repeatable.
    """

    _esm = _STATIC / "arena.js"
    _css = _STATIC / "arena.css"

    judge = traitlets.Unicode("").tag(sync=True)
    number = traitlets.Int(0).tag(sync=True)  # the pair shown; a vote names it, so a late key press is not counted
    prompt = traitlets.Unicode("").tag(sync=True)
    table = traitlets.List(traitlets.Dict()).tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    last = traitlets.Unicode("").tag(sync=True)  # the previous pair revealed, after its vote
    status = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        compare: Compare,
        *,
        judge: str = "",
        votes: VoteBook | str | os.PathLike[str] | None = None,
        seed: int | None = None,
        image_px: int = 768,
    ) -> None:
        entries = [
            Entry(item_label(j), str(getattr(j.variation.request, "prompt", "")), j)
            for j in compare.jobs
            if j.state == "done" and getattr(j.result, "images", None)
        ]
        self.items = sorted({e.item for e in entries}, key=[e.item for e in entries].index)
        if len(self.items) < 2:
            raise ValueError(
                "an Arena needs results from at least two variations that differ in more than the prompt: "
                "run the Compare (compare.run(); compare.wait()) with an axis such as quality or endpoint"
            )
        super().__init__(judge=judge)
        self.entries = entries
        self.book = votes if isinstance(votes, VoteBook) else VoteBook(votes)
        self.name = "arena-" + hashlib.sha256(json.dumps(sorted(self.items)).encode()).hexdigest()[:12]
        self.image_px = image_px
        self.pair: Pair | None = None
        self._random = random.Random(seed)
        self._seed = seed if seed is not None else 0
        self._lock = threading.RLock()
        self._jobs = {e.item: [x.job for x in entries if x.item == e.item] for e in entries}
        self._strengths = _ratings.fit(len(self.items), [], rounds=0)
        self.on_msg(self._message)
        self._refresh()
        self.next_pair()

    # -- what people use ---------------------------------------------------------------------------

    @property
    def votes(self) -> list[Vote]:
        """This Arena's votes, every judge's and every session's, oldest first."""
        return [v for v in self.book.votes(self.name) if v.left in self.items and v.right in self.items]

    def vote(self, outcome: str, *, judge: str | None = None) -> Vote:
        """Judge the pair shown: ``left``, ``right``, ``tie`` or ``both_bad``; stores the vote, shows the next pair."""
        with self._lock:
            pair = self.pair
            if pair is None:
                raise RuntimeError("there is no pair to judge")
            name = (judge if judge is not None else self.judge).strip()
            vote = self.book.add(
                Vote(
                    arena=self.name,
                    judge=name,
                    prompt=pair.left.prompt,
                    left=pair.left.item,
                    right=pair.right.item,
                    outcome=outcome,
                    left_id=pair.left.job.request_id or "",
                    right_id=pair.right.job.request_id or "",
                )
            )
            said = {"left": "left won", "right": "right won", "tie": "a tie", "both_bad": "both bad"}[outcome]
            self.last = f"Pair {pair.number} ({said}): left was {pair.left.item}; right was {pair.right.item}"
            self._refresh()
            self.next_pair()
        self._reader_changed()
        return vote

    def ratings(self) -> list[dict[str, Any]]:
        """One row per variation, strongest first: Bradley–Terry strength (Elo scale) and its 95 % interval,
        wins, losses, ties, both-bad, votes, win rate, what it ran, cost per image and median latency."""
        return [dict(r) for r in self.table]

    def export_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write this Arena's votes as CSV (one row a vote); returns the path."""
        return self.book.to_csv(path, self.name)

    def next_pair(self) -> Pair:
        """Choose and show the next pair: the least compared pair of variations (the closest in strength among
        equals) on a prompt both have a result for, sides at random."""
        with self._lock:
            counts: dict[frozenset[str], int] = {}
            for v in self.votes:
                key = frozenset((v.left, v.right))
                counts[key] = counts.get(key, 0) + 1
            strength = dict(zip(self.items, self._strengths.mean, strict=True))
            options = []
            for a_index, a in enumerate(self.items):
                for b in self.items[a_index + 1 :]:
                    prompts = {e.prompt for e in self.entries if e.item == a} & {
                        e.prompt for e in self.entries if e.item == b
                    }
                    if prompts:
                        gap = abs(strength[a] - strength[b])
                        options.append((counts.get(frozenset((a, b)), 0), gap, self._random.random(), a, b, prompts))
            if not options:
                raise ValueError("no two variations have a result for the same prompt")
            _count, _gap, _r, a, b, prompts = min(options, key=lambda o: o[:3])
            prompt = self._random.choice(sorted(prompts))
            left, right = (self._entry(a, prompt), self._entry(b, prompt))
            if self._random.random() < 0.5:
                left, right = right, left
            self.pair = Pair(self.number + 1, left, right)
            self.prompt = prompt
            self.number = self.pair.number
        self._send_pair()
        return self.pair

    def __repr__(self) -> str:
        return f"Arena({len(self.items)} variations, {len(self.votes)} votes: {self.summary})"

    # -- internals ---------------------------------------------------------------------------------

    def _entry(self, item: str, prompt: str) -> Entry:
        return self._random.choice([e for e in self.entries if e.item == item and e.prompt == prompt])

    def _refresh(self) -> None:
        """Fit the strengths again and rebuild the table and its summary."""
        index = {item: k for k, item in enumerate(self.items)}
        votes = self.votes
        comparisons = [(index[v.left], index[v.right], v.outcome) for v in votes]
        self._strengths = fit = _ratings.fit(len(self.items), comparisons, seed=self._seed)
        rows = []
        for k, item in enumerate(self.items):
            mine = [(c, side) for c in comparisons for side in (0, 1) if c[side] == k]
            won = sum(1 for c, side in mine if c[2] == ("left", "right")[side])
            lost = sum(1 for c, side in mine if c[2] == ("right", "left")[side])
            ties = sum(1 for c, _side in mine if c[2] == "tie")
            bad = sum(1 for c, _side in mine if c[2] == "both_bad")
            jobs = self._jobs[item]
            rows.append(
                {
                    "variation": item,
                    "strength": round(_ratings.elo(fit.mean[k])),
                    "low": round(_ratings.elo(fit.low[k])),
                    "high": round(_ratings.elo(fit.high[k])),
                    "wins": won,
                    "losses": lost,
                    "ties": ties,
                    "both_bad": bad,
                    "votes": len(mine),
                    "win_rate": round((won + 0.5 * ties) / len(mine), 3) if mine else None,
                    **_what_ran(jobs[0]),
                    "cost_per_image": _cost_per_image(jobs[0]),
                    "latency_s": _median_latency(jobs),
                }
            )
        rows.sort(key=lambda r: -float(r["strength"] or 0))
        self.table = rows
        self.summary = _summary(rows, fit, self.items, len(votes))

    def _send_pair(self) -> None:
        pair = self.pair
        if pair is None:
            return

        def load() -> None:
            try:
                pictures = [e.job.result.images[0].thumbnail(self.image_px) for e in (pair.left, pair.right)]
            except Exception as exc:  # an expired URL or a dead server: say so, the vote is still possible
                self.status = f"could not load the images: {exc}"
                return
            if self.pair is pair:
                meta = {"event": "pair", "number": pair.number, "mimes": [m for _d, m in pictures]}
                self.send(meta, [bytes(d) for d, _m in pictures])

        run_in_pool(load)

    def _message(self, _widget: object, content: Any, _buffers: object) -> None:
        if not isinstance(content, dict):
            return
        try:
            if content.get("event") == "hello":
                self._send_pair()
            elif content.get("event") == "vote" and content.get("number") == self.number:
                self.vote(str(content.get("outcome")))
                self.status = ""
        except Exception as exc:  # a comm handler's traceback is never seen: the arena says it
            self.status = str(exc)

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/html"] = self._static_html()
        return data, metadata

    def _static_html(self) -> str:
        return card("<b>Blind comparison</b>", table_html(self.table, self.summary))


def table_html(rows: list[dict[str, Any]], summary: str) -> str:
    """The ranking as a static table (the reader view; inline styles only)."""
    cell = style(padding="3px 8px", text_align="left", border_bottom=f"1px solid {COLOR['border']}")
    heads = ["Variation", "Strength (95 % interval)", "Win rate (W–L–T, both bad)", "Ran", "Cost/image", "Latency"]
    head = "".join(f'<th scope="col" style="{cell}">{esc(h)}</th>' for h in heads)
    body = []
    for r in rows:
        rate = "–" if r["win_rate"] is None else f"{r['win_rate']:.0%}"
        cost = "unknown" if r["cost_per_image"] is None else f"${r['cost_per_image']:.3f}"
        latency = "–" if r["latency_s"] is None else f"{r['latency_s']:.1f} s"
        values = [
            r["variation"],
            f"{r['strength']:+d} ({r['low']:+d} … {r['high']:+d})",
            f"{rate} ({r['wins']}–{r['losses']}–{r['ties']}, {r['both_bad']}) of {r['votes']}",
            f"{r['endpoint']} · {r['quality']} · {r['size']}",
            cost,
            latency,
        ]
        body.append("<tr>" + "".join(f'<td style="{cell}">{esc(v)}</td>' for v in values) + "</tr>")
    note = f'<p style="color:{COLOR["fg"]};font-size:{FONT_SMALL}">{esc(summary)}</p>'
    return (
        f'{note}<table style="border-collapse:collapse;color:{COLOR["fg"]};font-size:{FONT_SMALL}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _summary(rows: list[dict[str, Any]], fit: _ratings.Strengths, items: list[str], votes: int) -> str:
    if not votes:
        return "No votes yet: judge a few pairs."
    leader = items[fit.leader()]
    count = f"{votes} vote{'s' * (votes != 1)}"
    if fit.separated():
        return f"{leader} leads and is separated: its 95 % interval lies above every other's ({count})."
    close = [r["variation"] for r in rows[1:] if r["high"] >= rows[0]["low"]]
    return f"{leader} leads, not yet separated from {', '.join(close)} ({count}): keep voting."


def _what_ran(job: Job) -> dict[str, str]:
    request = job.variation.request
    return {
        "endpoint": job.variation.endpoint,
        "quality": str(getattr(request, "quality", "–")),
        "size": value_text(getattr(request, "image_size", "–")),
    }


def _cost_per_image(job: Job) -> float | None:
    cost = job.variation.cost
    images = len(getattr(job.result, "images", None) or ()) or 1
    return round(float(cost.amount) / images, 4) if cost.known else None


def _median_latency(jobs: list[Job]) -> float | None:
    seconds = [s for j in jobs for s in [getattr(j.result, "inference_seconds", None) or j.elapsed] if s is not None]
    return round(statistics.median(seconds), 2) if seconds else None
