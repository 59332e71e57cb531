"""A notebook executed the way ``jupyter nbconvert --execute`` does it (nbclient, widget state saved) keeps no key.

The key is typed into the form's password field (both ways a value can arrive: set from Python, and as a
browser update message), then the notebook is saved with its widget state. A plain ``ipywidgets.Password``
in the same notebook is the control: its value must show up in the file, which proves the check can fail.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.kernel

SECRET = "sk-test-SECRET-987"  # a fake key
SECRET_FROM_BROWSER = "sk-test-BROWSER-654"
CONTROL = "control-PLAIN-PASSWORD-321"

CELLS = [
    "import os\nimport falstudio as fs\nform = fs.widgets.RequestForm('fal-ai/gpt-image-1/edit-image/byok')\n"
    "form.add_image('https://example.com/cat.png')\n"
    "form.controls['prompt'].input.value = 'a cat in a hat'\n"
    "form",
    # the user types the key: the value never appears in the cell source, it comes from the environment
    "password = form.controls['openai_api_key'].input.password\n"
    "password.value = os.environ['FS_TEST_KEY']\n"
    "assert password.value == '' and form.value.openai_api_key.get_secret_value() == os.environ['FS_TEST_KEY']",
    # a browser update message, as ipywidgets' comm handler applies it
    "password.set_state({'value': os.environ['FS_TEST_KEY_2']})\n"
    "assert password.value == ''\n"
    "assert form.value.payload()['openai_api_key'] == os.environ['FS_TEST_KEY_2']",
    "print(repr(form)); print(form.to_code()); print(form.to_code('fal_client'))\nform",
    "import ipywidgets\nipywidgets.Password(value=os.environ['FS_TEST_CONTROL'])",
]


def test_executed_notebook_with_widget_state_holds_no_key(tmp_path, monkeypatch):
    monkeypatch.setenv("FS_TEST_KEY", SECRET)
    monkeypatch.setenv("FS_TEST_KEY_2", SECRET_FROM_BROWSER)
    monkeypatch.setenv("FS_TEST_CONTROL", CONTROL)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(
        nb,
        kernel_name="python3",
        store_widget_state=True,
        timeout=120,
        startup_timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # "python" in the kernelspec becomes sys.executable: the kernel runs in this venv
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    text = path.read_text()

    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    passwords = [s["state"] for s in state.values() if s["model_name"] == "PasswordModel"]
    assert len(passwords) == 2, "both password widgets should be in the saved widget state"
    assert CONTROL in text, "the control Password's value must be saved, or this test proves nothing"
    for secret in (SECRET, SECRET_FROM_BROWSER):
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "RequestForm('fal-ai/gpt-image-1/edit-image/byok', valid," in printed
    assert "openai_api_key=***" in printed
    assert 'os.environ["OPENAI_API_KEY"]' in printed
