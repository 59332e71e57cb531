"""A notebook run by a real kernel (nbclient, as ``jupyter nbconvert --execute`` runs it) saves each widget's reader
view — its static copy — at its *current* state: after a Compare run and a favourite, after a Studio job (a BYOK
one: the key never lands in the file), after a JobView ends. Byte budgets of what the reader views add are
checked here; the browser tests show them in JupyterLab, Notebook 7 and nbconvert's HTML.
"""

from __future__ import annotations

import json
import re
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.kernel

KEY = "sk-test-READER-VIEW-555"  # a fake OpenAI key, typed into the BYOK form
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# What a reader view may add to the .ipynb (its text/html), the thumbnails in it included.
BUDGET = {"compare 3x3": 150_000, "studio": 80_000, "job": 20_000}

CELLS = [
    "import os\nimport falstudio as fs\n"
    "cmp = fs.Compare(fs.sweep({'prompt': 'a fox in the snow'}, endpoint='fal-ai/gpt-image-1-mini',\n"
    "    quality=['low', 'medium', 'high'], image_size=['1024x1024', '1536x1024', '1024x1536']), confirm_above=None)\n"
    "cmp",
    "cmp.run()\ncmp.wait(180)\ncmp.set_favourite(4)",
    "studio = fs.Studio(endpoint='fal-ai/gpt-image-1/edit-image/byok', history=False)\n"
    "studio.form.value = {'prompt': 'a cat wearing a tiny crown', 'quality': 'low'}\n"
    "from PIL import Image as Picture\nstudio.form.add_image(Picture.new('RGB', (64, 64), 'teal'))\n"
    "studio.form.set_secret('openai_api_key', os.environ['FS_TEST_KEY'])\n"
    "studio",
    "studio.click_generate()\nstudio.wait(120)\nprint(studio.jobs[0].state)",
    "job = fs.widgets.JobView.submit(cmp.client, 'fal-ai/gpt-image-1-mini',\n"
    "    {'prompt': 'a lighthouse', 'quality': 'low'})\n"
    "job",
    "job.wait(120).state",
]


def _run(tmp_path: Any, *, store_widget_state: bool) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(
        nb,
        kernel_name="python3",
        store_widget_state=store_widget_state,
        timeout=240,
        startup_timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    return nb


def _reader(cell: nbformat.NotebookNode) -> str:
    """The reader view of the widget a cell displayed: the output after the live view's."""
    outputs = cell["outputs"]
    live = [i for i, o in enumerate(outputs) if WIDGET_VIEW in o.get("data", {})]
    assert live, f"no widget displayed: {outputs}"
    assert outputs[live[0]]["data"]["text/html"] == "", "the live view's own output keeps only its text repr"
    reader = outputs[live[0] + 1]
    assert WIDGET_VIEW not in reader["data"]
    html: str = reader["data"]["text/html"]
    assert 'class="fs-reader tex2jax_ignore mathjax_ignore"' in html  # prices are not LaTeX
    return html


def _images(html: str) -> list[str]:
    return re.findall(r'<img src="(data:image/[a-z]+;base64,[^"]+)"', html)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch) -> Any:
    monkeypatch_module.setenv("FS_TEST_KEY", KEY)
    monkeypatch_module.delenv("OPENAI_API_KEY", raising=False)
    path = tmp_path_factory.mktemp("reader")
    nb = _run(path, store_widget_state=True)
    nbformat.write(nb, path / "executed.ipynb")
    return nb, (path / "executed.ipynb").read_text()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_compare_reader_view_is_the_finished_grid(executed: Any) -> None:
    nb, _text = executed
    html = _reader(nb.cells[0])
    assert len(_images(html)) == 9, "one thumbnail per variation"
    assert "9 done" in html and "not run" not in html and "Waiting" not in html
    assert html.count("★ favourite") == 1  # set in a later cell: the reader view follows
    assert re.search(r"\$0\.\d\d", html)  # costs
    assert len(html.encode()) <= BUDGET["compare 3x3"], len(html.encode())


def test_the_studio_reader_view_shows_the_request_run_its_job_and_image_and_no_key(executed: Any) -> None:
    nb, text = executed
    html = _reader(nb.cells[2])
    assert "a cat wearing a tiny crown" in html
    assert "Done" in html or "done" in html
    assert len(_images(html)) >= 2, "the job's picture and the gallery's"
    assert len(html.encode()) <= BUDGET["studio"], len(html.encode())
    assert "done" in "".join(o.get("text", "") for o in nb.cells[3]["outputs"])
    assert KEY not in text and json.dumps(KEY)[1:-1] not in text


def test_the_job_reader_view_has_its_state_request_id_and_picture(executed: Any) -> None:
    nb, _text = executed
    html = _reader(nb.cells[4])
    assert "a lighthouse" in html and "done" in html
    assert re.search(r"[0-9a-f]{8}-", html), "the request id"
    assert len(_images(html)) == 1
    assert len(html.encode()) <= BUDGET["job"], len(html.encode())
