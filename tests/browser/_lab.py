"""Run JupyterLab (or Notebook 7) from this Python in a throwaway home, and drive it with Playwright and Debian's
Chromium. ``conftest.py`` keeps one JupyterLab and one Notebook 7 server for the whole session.

Nothing is downloaded: Playwright's driver comes with its wheel and the browser is ``/usr/bin/chromium``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "falstudio-browser-test"
THEMES = "themes.jupyterlab-settings"  # the user's theme, under the server's settings folder
MINUTE = 60_000  # Playwright timeouts are in ms
SRC = Path(__file__).resolve().parents[2] / "src"

# User settings: no news or update toasts over the notebook; saving a notebook saves its widget state too
# (as a teacher would turn on to share a run: the reader views must hold with and without it).
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
}
# JupyterLab's splash screen animates over the page while it changes theme (~0.2 s of Chromium's CPU and of waiting
# each time, 56 theme changes in the browser tier); nothing is checked or photographed under it. The File menu's
# "Save and Export Notebook As" list and the raw cell format picker each ask the server for nbconvert's exporters,
# which it builds anew each time: ~0.2 s of its CPU per page load (some 45 in the tier); no test uses either. The
# panels and viewers that no test opens and nothing of falstudio's draws in (the debugger, the table of contents, which
# reads every output again as it changes, the running list, extension and plugin managers, terminals, ...) are off
# too: a page load then costs ~0.4 s less of Chromium's CPU (2.3-2.5 CPU-s before). Editing, completion, tooltips,
# search, the file browser, menus, settings and the status bar stay as a person has them.
UNUSED_PANELS = """celltags csvviewer debugger extensionmanager help htmlviewer hub imageviewer inspector logconsole lsp
markdownviewer metadataform pluginmanager running terminal toc workspaces"""
PAGE_CONFIG = {
    "disabledExtensions": {
        "@jupyterlab/apputils-extension:splash": True,
        "@jupyterlab/notebook-extension:export": True,
        "@jupyterlab/notebook-extension:update-raw-mimetype": True,
        **dict.fromkeys((f"@jupyterlab/{name}-extension" for name in UNUSED_PANELS.split()), True),
    }
}


@dataclass
class Lab:
    """A running server: ``app`` is "lab" (JupyterLab) or "notebook" (Notebook 7)."""

    url: str
    root: Path
    log: Path
    app: str = "lab"

    def notebook_url(self, name: str) -> str:
        if self.app == "notebook":
            return f"{self.url}/notebooks/{name}?token={TOKEN}"
        return f"{self.url}/lab/tree/{name}?token={TOKEN}&reset"

    def add(self, *notebooks: Path) -> None:
        """Copy notebooks into the server's root (a session server serves every test's files)."""
        for notebook in notebooks:
            shutil.copy(notebook, self.root / notebook.name)

    def shutdown_kernels(self) -> None:
        """Shut down every kernel the server runs (after a test: a session server stays lean). Jupyter Server
        answers 500 to a listing while a kernel is starting (it has no last activity yet; seen when a test ends
        as its page's kernel starts): asked again a moment later. A kernel gone meanwhile (404) is no error."""
        for attempt in range(40):
            try:
                kernels = self._api("GET", "/api/kernels")
                break
            except urllib.error.HTTPError as error:
                if error.code != 500 or attempt == 39:
                    raise
                time.sleep(0.25)
        for kernel in kernels:
            try:
                self._api("DELETE", f"/api/kernels/{kernel['id']}")
            except urllib.error.HTTPError as error:
                if error.code != 404:
                    raise

    def forget_theme(self) -> None:
        """Back to the default (light) theme for the next page: a theme chosen in the Settings menu is saved on the
        server, and a later test that picks none would take its screenshots in it."""
        (self.root.parent / "settings" / "@jupyterlab" / "apputils-extension" / THEMES).unlink(missing_ok=True)

    def kernel_ready(self, name: str, *, quiet: float = 0.0) -> bool:
        """Whether notebook ``name`` has a kernel that started and is idle (a page's kernel indicator says idle
        before its kernel even started, then shows it connecting: a Run All clicked that early is lost), and has
        had no message for ``quiet`` seconds (a Run All that reached it keeps it busy, or talking). The
        server's count of connections is no help: it reads 0 or -1 after a page reloaded."""
        for session in self._api("GET", "/api/sessions"):
            kernel = session.get("kernel") or {}
            if session.get("path") == name and kernel.get("execution_state") == "idle":
                activity = kernel.get("last_activity")
                if not quiet or not activity:
                    return True
                last = dt.datetime.fromisoformat(str(activity).replace("Z", "+00:00"))
                return (dt.datetime.now(dt.UTC) - last).total_seconds() >= quiet
        return False

    def _api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}?token={TOKEN}", method=method)
        with urllib.request.urlopen(request, timeout=30) as reply:
            body = reply.read()
        return json.loads(body) if body else None


def require_browser() -> None:
    """Skip when Chromium or Playwright is missing, except in CI (``CI=true``), where that is a failure."""
    import pytest

    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed"
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests must run in CI: {problem}")
    pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lab_env(home: Path) -> dict[str, str]:
    """The server's (and so the kernel's) environment: no fal credentials, everything under ``home`` but the runtime
    folder (the kernels' sockets), a short temp folder the caller removes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAL_KEY")}
    dirs = {
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "JUPYTER_CONFIG_DIR": "config",
        "FALSTUDIO_HISTORY_DIR": "history",
        "IPYTHONDIR": "ipython",
    }
    for var, sub in dirs.items():
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    # Kernels talk to the server over Unix sockets (see jupyter_lab), whose paths must stay under ~107 bytes: a short
    # folder of their own, not one under pytest's deep tmp path.
    env["JUPYTER_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="fs-jrt-")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    for name, value in SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    (home / "config" / "labconfig").mkdir(exist_ok=True)
    (home / "config" / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
    return env


@contextlib.contextmanager
def jupyter_lab(home: Path, notebooks: list[Path], *, timeout: float = 60.0, app: str = "lab") -> Iterator[Lab]:
    """A JupyterLab (``app="notebook"``: Notebook 7) server on a free loopback port serving copies of
    ``notebooks``; stopped on exit."""
    root = home / "root"
    root.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        shutil.copy(notebook, root / notebook.name)
    port = free_port()
    log = home / "lab.log"
    cmd = [
        sys.executable,
        "-m",
        {"lab": "jupyterlab", "notebook": "notebook"}[app],
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--allow-root",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
        "--LabApp.news_url=",
        "--ServerApp.open_browser=False",
        # Not TCP: the server picks a kernel's free ports, closes them and starts the kernel, and on a busy machine
        # another process (a test's server, another worker's kernel) took one meanwhile. The kernel then died on
        # "Address already in use", five restarts tried the same port, and the notebook showed "No Kernel".
        "--KernelManager.transport=ipc",
    ]
    env = lab_env(home)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield Lab(url=url, root=root, log=log, app=app)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(env["JUPYTER_RUNTIME_DIR"], ignore_errors=True)


def screenshot_dir(default: Path) -> Path:
    """Where screenshots go: ``$FALSTUDIO_SCREENSHOTS``, else ``default``."""
    folder = Path(os.environ.get("FALSTUDIO_SCREENSHOTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_first_cell(page: Page) -> None:
    """Run the first cell (again: a new output) once the kernel is ready (a key pressed while it connects is lost:
    try again). It started when its prompt says [*] or a new number: its old output is gone then."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=MINUTE)
    page.get_by_text(re.compile(r"\| Idle$")).wait_for(timeout=MINUTE)
    prompt = page.locator(".jp-Cell").first.locator(".jp-InputPrompt")
    ran = re.escape(prompt.inner_text().strip())
    for _attempt in range(3):
        page.locator(".jp-Cell").first.locator(".jp-InputArea").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Control+Enter")  # run in place, no new cell
        try:
            prompt.filter(has_text=re.compile(r"\[(\*|\d+)\]")).filter(has_not_text=re.compile(f"^{ran}$")).wait_for(
                timeout=15_000
            )
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the notebook's first cell never started running")


ALL_CODE_CELLS_RAN = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
  return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""
IMAGES_SHOWN = """([sel, n]) => [...document.querySelectorAll(sel)]
  .filter(i => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().width > 0).length >= n"""


RUN_ALL_PATIENCE = 30  # seconds (see run_all)


def run_all(page: Page, lab: Lab, name: str) -> None:
    """Open ``name`` and Run All Cells (the Run menu: JupyterLab and Notebook 7 alike); every cell must run.

    A click while the kernel still connects is held, or lost, and on a loaded machine Notebook 7 may ask which
    kernel to use while a slow one starts: the dialog keeps Python, and the menu is used again (patiently: a held
    click runs every cell once more) until every cell ran.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(lab.notebook_url(name))
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    deadline = time.monotonic() + 4 * MINUTE / 1000
    clicked_at = -1e9
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    dialogs_answered = 0
    tracebacks = page.locator(".jp-OutputArea-output").filter(has_text="Traceback")
    while not page.evaluate(ALL_CODE_CELLS_RAN):
        assert tracebacks.count() == 0, tracebacks.first.inner_text()  # Run All stops at an error
        dialog = page.locator(".jp-Dialog").filter(has_text="Select Kernel")
        if dialog.count() and dialogs_answered >= 2:
            # Seen on a loaded machine: the page lost track of its running kernel (the server still has it) and
            # asks again after every answer; a reloaded page reconnects to the session's kernel.
            page.reload()
            dialogs_answered, clicked_at = 0, -1e9
            continue
        if dialog.count():
            dialogs_answered += 1
            try:  # Python, not whatever the list shows first: a session whose kernel was lost offers "No Kernel"
                dialog.locator("select").select_option(label="Python 3 (ipykernel)", timeout=5000)
            except PlaywrightTimeout:
                pass
            try:  # the dialog may close by itself meanwhile (the kernel connected): then there is nothing to click
                # Its accept button ("Select"): JupyterLab 4.6's is not found by its role and name (5 s lost twice)
                dialog.locator(".jp-Dialog-button.jp-mod-accept").click(timeout=5000)
            except PlaywrightTimeout:
                pass
        busy = prompts.filter(has_text="[*]").count()
        # A click that reached a connected kernel marks a cell [*] at once. A click made while the page still
        # connects to a slow kernel shows nothing until it connects, and is then sent: clicking again after a few
        # seconds ran a 256-job notebook three times (its kernel's history said so). So the menu is used again only
        # after RUN_ALL_PATIENCE seconds with no cell running and the kernel idle, and quiet as long. Answering a
        # Select Kernel dialog is no reason to click again: a click held behind it is sent once it closes (the likely
        # way one CI run still ran that notebook twice).
        since = time.monotonic() - clicked_at
        quiet = RUN_ALL_PATIENCE if clicked_at > 0 else 0.0
        if idle.count() and not busy and since > RUN_ALL_PATIENCE and lab.kernel_ready(name, quiet=quiet):
            try:  # a dialog that opens after the check above (Select Kernel) takes the click: handled next pass
                page.get_by_role("menuitem", name="Run", exact=True).click(timeout=5000)
                page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).click(timeout=5000)
                clicked_at = time.monotonic()
            except PlaywrightTimeout:
                pass
        if time.monotonic() > deadline:
            prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            page.screenshot(path=lab.root.parent / f"run-all-timeout-{name}.png", full_page=True)
            dialogs = page.locator(".jp-Dialog").all_inner_texts()
            raise AssertionError(
                f"not every cell of {name} ran: prompts {prompts}, dialogs {dialogs} (screenshot in {lab.root.parent})"
            )
        try:  # look again soon (in a second once clicked), or as soon as every cell ran
            wait_until(page, ALL_CODE_CELLS_RAN, timeout=1000 if clicked_at > 0 else 250)
        except PlaywrightTimeout:
            pass
    assert tracebacks.count() == 0, tracebacks.first.inner_text()


POLL_MS = 100  # how often wait_until looks (see wait_until)


def wait_until(page: Page, expression: str, arg: Any = None, *, timeout: float | None = None) -> None:
    """``page.wait_for_function`` looking every :data:`POLL_MS` ms. Playwright's default looks at every animation
    frame, which keeps Chromium drawing 60 frames a second for as long as the wait lasts (a 256-job cell: minutes)."""
    page.wait_for_function(expression, arg=arg, timeout=timeout, polling=POLL_MS)


def images_shown(page: Page, selector: str, at_least: int) -> None:
    wait_until(page, IMAGES_SHOWN, [selector, at_least], timeout=MINUTE)


# Looked up again at every poll: each update_display re-renders a reader view's HTML, so its `.fs-reader` element
# is a new one. A handle taken before a late update (a Compare's "run finished" one, coalesced on the widgets'
# pool, lags on a loaded machine) points at a detached element that never changes: the wait timed out.
READER_SHOWS = """([title, needle, n]) => {
  const reader = [...document.querySelectorAll('.fs-reader')].find(el => el.textContent.includes(title));
  return !!reader && reader.innerHTML.split(needle).length - 1 === n;
}"""


def reader_shows(page: Page, title: str, needle: str, times: int) -> None:
    """Wait until the first reader view containing ``title`` has ``needle`` exactly ``times`` times in its HTML."""
    wait_until(page, READER_SHOWS, [title, needle, times], timeout=MINUTE)


# Notebook 7.6 itself throws this while it opens a notebook (no falstudio code involved; seen with an empty notebook)
WIDGET_FAILED = "Could not create a view for model"
NOTEBOOK7_NOISE = ("Cannot read properties of undefined (reading 'schema')",)


@contextlib.contextmanager
def chromium_page(width: int = 1280, height: int = 1600, *, ignore: tuple[str, ...] = ()) -> Iterator[Page]:
    """A page in Debian's headless Chromium; JavaScript errors on the page and widget views that failed to draw
    (but ``ignore``) fail the test at the end."""
    with chromium_pages((width, height, ignore)) as (page,):
        yield page


def _watched(page: Page, errors: list[str]) -> Page:
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # ipywidgets logs a view it could not draw (and shows "Click to show javascript error") without throwing
    page.on("console", lambda m: errors.append(m.text) if WIDGET_FAILED in m.text else None)
    return page


@contextlib.contextmanager
def chromium_pages(*specs: tuple[int, int, tuple[str, ...]]) -> Iterator[list[Page]]:
    """One page per (width, height, errors to ignore), open at the same time: pages that wait on timers or servers
    of their own wait together. They share this process's profile (see :func:`chromium`); what a site keeps in the
    browser (cookies, storage, permissions) is cleared once they close, so the next test starts as a new visitor."""
    errors: list[list[str]] = [[] for _ in specs]
    context = chromium()
    pages: list[Page] = []
    origins: set[str] = set()
    try:
        for (width, height, _ignore), seen in zip(specs, errors, strict=True):
            page = context.new_page()
            page.set_viewport_size({"width": width, "height": height})
            page.on("framenavigated", lambda frame: origins.add(_origin(frame.url)))
            pages.append(_watched(page, seen))
        yield pages
    finally:
        _forget_sites(context, pages, origins - {""})
        for page in pages:
            page.close()
    errors = [[e for e in seen if e not in ignore] for seen, (_w, _h, ignore) in zip(errors, specs, strict=True)]
    assert not any(errors), f"errors in the page: {errors}"


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else ""


def _forget_sites(context: BrowserContext, pages: list[Page], origins: set[str]) -> None:
    """Clear every site's cookies, storage and permissions: all but the HTTP cache and V8's code cache."""
    if _closed:
        return
    context.clear_cookies()
    context.clear_permissions()
    if not origins or not pages:
        return
    session = context.new_cdp_session(pages[0])
    try:
        for origin in sorted(origins):
            session.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
    finally:
        session.detach()


# This process's Playwright driver, its Chromium profile (a persistent context) and that profile's folder; and
# whether that Chromium closed (crashed) since
_running: list[tuple[Playwright, BrowserContext, Path]] = []
_closed: list[bool] = []


def chromium() -> BrowserContext:
    """This process's headless Chromium, launched on first use and kept (a launch costs ~1.5 s of CPU here, more
    than many checks): one persistent profile in a throwaway folder, whose pages tests open and close. A profile
    keeps V8's code cache, which a fresh context does not: a JupyterLab page load costs ~30% less of Chromium's CPU
    from the third on (2.8 CPU-s, not 4.1). ``close_chromium`` ends it."""
    if _running and not _closed:
        return _running[0][1]
    close_chromium()
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    folder = Path(tempfile.mkdtemp(prefix="falstudio-chromium-"))
    try:
        context = driver.chromium.launch_persistent_context(folder, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except BaseException:
        driver.stop()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _closed.clear()
    context.on("close", lambda _context: _closed.append(True))  # Chromium crashed or was closed
    _running.append((driver, context, folder))
    return context


def close_chromium() -> None:
    """Close this process's Chromium and stop its Playwright driver, if started. Until then Playwright marks the
    thread's event loop as running, and ``asyncio.run`` (kernel clients, the async client) refuses to start."""
    while _running:
        driver, context, folder = _running.pop()
        try:
            context.close()
        finally:
            driver.stop()
            shutil.rmtree(folder, ignore_errors=True)


# The theme's colours apply (its CSS is in: light or dark as the body says) and no splash screen covers the page
# (PAGE_CONFIG turns it off; a server without that setting shows one for ~200 ms), before and after two frames.
THEME_PAINTED = """() => {
  const painted = () => {
    if (document.getElementById('jupyterlab-splash')) return false;
    const probe = document.body.appendChild(document.createElement('div'));
    probe.style.background = 'var(--jp-layout-color0)';
    const [r, g, b] = (getComputedStyle(probe).backgroundColor.match(/\\d+/g) || [0, 0, 0]).map(Number);
    probe.remove();
    return (r + g + b > 384) === (document.body.dataset.jpThemeLight === 'true');
  };
  if (!painted()) return false;
  return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(painted()))));
}"""


def set_theme(page: Page, theme: str) -> None:
    """Settings menu > Theme > ``theme`` (if not already on): the theme changes in place, widgets stay live.
    JupyterLab and Notebook 7 alike."""
    body = page.locator("body[data-jp-theme-name]")
    body.wait_for(state="attached", timeout=MINUTE)
    if body.get_attribute("data-jp-theme-name") == theme:
        return
    page.get_by_role("menuitem", name="Settings").click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Theme$")).click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(f"^{re.escape(theme)}$")).click()
    page.locator(f"body[data-jp-theme-name='{theme}']").wait_for(state="attached", timeout=MINUTE)
    wait_until(page, THEME_PAINTED, timeout=MINUTE)  # before a screenshot


def write_notebook(path: Path, sources: list[str]) -> Path:
    """A notebook at ``path`` with one unexecuted code cell per source, for the Python 3 kernel."""
    cells = [
        {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": source}
        for i, source in enumerate(sources)
    ]
    kernel = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    metadata = {"kernelspec": kernel, "language_info": {"name": "python"}}
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": metadata}))
    return path
