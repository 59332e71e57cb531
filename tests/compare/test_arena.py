"""fs.Arena: blind pairs of a Compare's results (same prompt, different variations, sides at random, no labels
sent), votes stored with the history and counted again by a later process, the ranking table and its reader view."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from falstudio.client import Client
from falstudio.history import VoteBook
from falstudio.sweep import sweep
from falstudio.widgets import Arena, Compare

MINI = "fal-ai/gpt-image-1-mini"


@pytest.fixture(scope="module")
def compare(server: Any) -> Iterator[Compare]:
    client = Client(key=server.key, base_url=server.url, history=False)
    c = Compare(
        sweep({"prompt": "x"}, endpoint=MINI, prompt=["a red fox", "a blue bird"], quality=["low", "medium", "high"]),
        client=client,
        confirm_above=None,
    )
    c.run()
    assert [r["state"] for r in c.wait(120)] == ["done"] * 6
    yield c
    c.close()
    client.close()


def _sent(arena: Arena) -> list[tuple[Any, list[bytes]]]:
    messages: list[tuple[Any, list[bytes]]] = []
    arena.send = lambda content, buffers=None: messages.append((content, list(buffers or [])))  # type: ignore[method-assign]
    return messages


def test_pairs_are_blind_same_prompt_different_variations_sides_at_random(compare: Compare, tmp_path: Path) -> None:
    arena = Arena(compare, judge="ana", votes=tmp_path, seed=3)
    try:
        assert arena.items == ["quality=low", "quality=medium", "quality=high"]
        messages = _sent(arena)
        first_left = []
        for _ in range(40):
            pair = arena.next_pair()
            assert pair.left.prompt == pair.right.prompt == arena.prompt and pair.left.item != pair.right.item
            first_left.append(arena.items.index(pair.left.item) < arena.items.index(pair.right.item))
        assert 8 < sum(first_left) < 32  # either side, at random
        deadline = time.monotonic() + 30
        while not messages and time.monotonic() < deadline:
            time.sleep(0.02)
        content, buffers = messages[-1]
        assert set(content) == {"event", "number", "mimes"}  # what the browser gets names no variation
        assert len(buffers) == 2 and all(b[:3] == b"\xff\xd8\xff" or b[:4] == b"RIFF" for b in buffers)
        state = arena.get_state()
        assert arena.pair is not None and arena.pair.left.item not in str(state["prompt"]) + str(state["last"])
    finally:
        arena.close()


def test_votes_rank_the_variations_and_the_next_pair_is_the_least_compared(compare: Compare, tmp_path: Path) -> None:
    arena = Arena(compare, judge="ana", votes=tmp_path, seed=1)
    try:
        seen = set()
        for _ in range(3):  # three variations: three pairs, each shown once before any is shown again
            pair = arena.pair
            assert pair is not None
            seen.add(frozenset((pair.left.item, pair.right.item)))
            better = max(pair.left.item, pair.right.item, key=arena.items.index)  # "high" beats "medium" beats "low"
            arena._message(arena, {"event": "vote", "outcome": "left", "number": arena.number - 1}, [])  # stale
            arena._message(
                arena,
                {"event": "vote", "outcome": "left" if better == pair.left.item else "right", "number": arena.number},
                [],
            )
        assert len(seen) == 3 and len(arena.votes) == 3
        for _ in range(57):  # 20 votes a pair, the better one always chosen
            pair = arena.pair
            assert pair is not None
            better = max(pair.left.item, pair.right.item, key=arena.items.index)
            arena.vote("left" if better == pair.left.item else "right", judge="bo" if _ % 2 else None)
        rows = arena.ratings()
        assert [r["variation"] for r in rows] == ["quality=high", "quality=medium", "quality=low"]
        top = rows[0]
        assert top["wins"] == top["votes"] == 40 and top["losses"] == 0 and top["win_rate"] == 1.0
        assert top["quality"] == "high" and top["endpoint"] == MINI and top["size"]
        assert top["cost_per_image"] is not None and top["latency_s"] is not None
        assert top["low"] <= top["strength"] <= top["high"]
        assert "quality=high leads and is separated" in arena.summary
        assert {v.judge for v in arena.votes} == {"ana", "bo"}
        html = arena._static_html()
        assert "Strength (95 % interval)" in html and "quality=high" in html and "separated" in html
        rows_csv = arena.export_csv(tmp_path / "votes.csv").read_text(encoding="utf-8").splitlines()
        assert len(rows_csv) == 61 and rows_csv[0].startswith("arena,judge,prompt,left,right,outcome")
    finally:
        arena.close()


def test_a_vote_needs_a_judge_and_an_arena_needs_two_variations(compare: Compare, tmp_path: Path) -> None:
    arena = Arena(compare, votes=tmp_path, seed=1)
    try:
        with pytest.raises(ValueError, match="judge"):
            arena.vote("left")
        arena._message(arena, {"event": "vote", "outcome": "left", "number": arena.number}, [])
        assert "judge" in arena.status and arena.votes == []
        with pytest.raises(ValueError, match="outcome must be one of"):
            arena.vote("better", judge="ana")
    finally:
        arena.close()
    single = Compare(sweep({"prompt": "a fox"}, endpoint=MINI))
    with pytest.raises(ValueError, match="at least two variations"):
        Arena(single, votes=tmp_path)
    single.close()


def test_votes_survive_a_restart_and_count_in_a_later_arena(server: Any, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import falstudio as fs
        from falstudio.client import Client
        client = Client(key={server.key!r}, base_url={server.url!r}, history=False)
        c = fs.Compare(fs.sweep({{"prompt": "a fox"}}, endpoint={MINI!r}, quality=["low", "high"]), client=client)
        c.run()
        c.wait(120)
        arena = fs.Arena(c, judge="ana", votes={str(tmp_path)!r}, seed=0)
        for _ in range(int(__import__("sys").argv[1])):
            pair = arena.pair
            arena.vote("left" if pair.left.item == "quality=high" else "right")
        print(len(arena.votes), arena.ratings()[0]["variation"], arena.ratings()[0]["wins"])
        c.close()
        client.close()
        """
    )

    def session(votes: int) -> str:
        done = subprocess.run([sys.executable, "-c", script, str(votes)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert session(4) == "4 quality=high 4"
    assert session(2) == "6 quality=high 6"  # a new process: the first session's votes count too
    assert len(VoteBook(tmp_path).votes()) == 6
