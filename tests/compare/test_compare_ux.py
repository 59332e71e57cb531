"""Compare after a run: ticking one more value keeps the finished grid and its favourites until the new variations
run; the status line counts what is true; Enlarge opens over the grid; tiles follow the output's width."""

from __future__ import annotations

from falstudio.client import Client
from falstudio.sweep import sweep
from falstudio.widgets import Compare
from falstudio.widgets.compare._layout import states_text

MINI = "fal-ai/gpt-image-1-mini"


def test_a_new_tick_keeps_the_finished_grid_and_favourites_until_it_runs(client: Client) -> None:
    c = Compare(sweep({"prompt": "a red fox"}, endpoint=MINI, quality=["low", "medium"]), client=client)
    try:
        c.run()
        c.wait(120)
        assert "2 done" in c.summary.value
        c.set_favourite(1)
        tiles = c._tiles
        c.picker.set_checked("quality", ["low", "medium", "high"])  # one more value: not run yet
        assert c._tiles is tiles and len(c.grid.tiles) == 2 and c.favourites == {1} and c.grid.tiles[1]["fav"]
        assert [j.state for j in c.jobs] == ["done", "done"]
        assert "3 requests" in c.summary.value and "Run replaces the grid below" in c.summary.value
        assert "2 done" not in c.summary.value
        c.picker.set_checked("quality", ["low", "medium"])  # back to what ran: the summary says so
        assert "last run: 2 done" in c.summary.value
        c.picker.set_checked("quality", ["low", "medium", "high"])
        c.run()
        assert c.favourites == set()  # a new run: new tiles, new favourites
        assert "2 done" not in c.summary.value  # never the last run's count
        c.wait(120)
        assert "3 done" in c.summary.value
    finally:
        c.close()


def test_the_status_line_never_shows_the_last_runs_count_for_a_new_run(client: Client) -> None:
    c = Compare(sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "medium"]), client=client, concurrency=1)
    try:
        c.run()
        c.wait(120)
        c.run()  # the same variations again
        assert "2 done" not in c.summary.value and "waiting" in c.summary.value  # an offline run takes ~1 s
        c.wait(120)
        assert "2 done" in c.summary.value
    finally:
        c.close()


def test_states_text_counts_waiting_jobs_in_words() -> None:
    s = sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "medium"])
    from falstudio.sweep import Job

    assert states_text([Job(v) for v in s]) == "not run"


def test_the_grid_lays_the_axis_out_as_columns_and_enlarge_opens_over_the_grid(client: Client) -> None:
    c = Compare(sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "medium"]), client=client)
    try:
        grid = c.grid
        assert (grid.x_axis, grid.y_axis, grid.sort, grid.columns) == ("quality", "", "grid", 0)
        assert grid.axes == [{"name": "quality", "values": ["low", "medium"]}] and not grid.compact
        assert "fs-overlay" in c.viewer._dom_classes and "fs-overlay-open" not in c.viewer._dom_classes
        c.run()
        c.wait(120)
        c.enlarge(1)
        assert "fs-overlay-open" in c.viewer._dom_classes
        c.viewer.close_button.click()
        assert "fs-overlay-open" not in c.viewer._dom_classes
    finally:
        c.close()


def test_the_reports_parameter_table_lists_shared_values_once(client: Client) -> None:
    import re

    from falstudio.widgets.compare._export import parameter_table

    c = Compare(sweep({"prompt": "a fox " * 10}, endpoint=MINI, quality=["low", "medium"]), client=client)
    try:
        c.run()
        c.wait(120)
        html = parameter_table(c.sweep, c.jobs, set())
        shared, table = html.split("</table>", 1)
        assert "The same in every variation" in shared and "a fox a fox" in shared and ">prompt<" in shared
        head = re.search(r"<thead>(.*)</thead>", table)
        assert head is not None
        assert ">quality<" in head[1] and ">prompt<" not in head[1] and ">endpoint<" not in head[1]
    finally:
        c.close()
