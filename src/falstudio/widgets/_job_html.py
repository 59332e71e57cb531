"""The markup of a job panel (:mod:`.job`): its status line, progress bar, log box and error box; and a finished
job as one row (the Studio's job list)."""

from __future__ import annotations

from collections.abc import Sequence

from .._internal.theme import COLOR, FONT_CODE, FONT_SMALL, STATE_COLOR, esc, style
from ..client import LogEntry, Phase
from ..client.errors import FalError

_LEVEL_COLOR = {"ERROR": "error", "STDERR": "error", "WARN": "warn", "WARNING": "warn", "DEBUG": "muted"}
_LABEL = {
    "submitting": "Submitting…",
    "queued": "Queued",
    "running": "Running",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}

BAR = (
    "<style>@keyframes fs-job-slide{0%{left:-40%}100%{left:100%}}"
    "@media (prefers-reduced-motion: reduce){.fs-job-slider{animation:none!important;left:0!important;"
    "width:100%!important;opacity:.5}}</style>"
    '<div role="progressbar" aria-label="{label}" aria-busy="true" style="position:relative;height:4px;'
    f'overflow:hidden;border-radius:2px;background:{COLOR["bg2"]}">'
    '<div class="fs-job-slider" style="position:absolute;top:0;bottom:0;width:40%;border-radius:2px;'
    f'background:{COLOR["accent"]};animation:fs-job-slide 1.4s ease-in-out infinite"></div></div>'
)


def format_seconds(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60}:{whole % 60:02d} min"


def status_html(endpoint: str, phase: Phase, position: int | None, detail: str) -> str:
    """The state chip (in words and colour), the endpoint and ``detail`` (elapsed time, image count)."""
    chip = _chip(phase)
    if phase == "queued" and position is not None:
        chip = chip.replace(esc(_LABEL[phase]), esc(f"{_LABEL[phase]} #{position + 1} in line"))
    muted = f'style="color:{COLOR["muted"]};font-size:{FONT_SMALL}"'
    return (
        f'<div role="status" aria-live="polite" style="color:{COLOR["fg"]};white-space:nowrap;overflow:hidden;'
        f'text-overflow:ellipsis">{chip} '
        f'<code style="font-family:{FONT_CODE}">{esc(endpoint)}</code> '
        f"<span {muted}>{esc(detail)}</span></div>"
    )


def _chip(phase: Phase) -> str:
    color = STATE_COLOR.get(phase, COLOR["accent"])  # the history's colours: one state, one colour
    return (
        f'<span style="display:inline-block;padding:0 8px;border:1px solid {color};border-radius:9px;'
        f'color:{color};font-weight:600">{esc(_LABEL[phase])}</span>'
    )


def job_row_html(endpoint: str, phase: Phase, prompt: str, detail: str, problem: str = "") -> str:
    """A job on one line: its state, prompt (whole on hover), endpoint and ``detail``; ``problem``: why it
    failed or was cancelled (its first line)."""
    muted = style(color=COLOR["muted"], font_size=FONT_SMALL)
    text = " ".join(prompt.split())
    why = problem.strip().splitlines()[0] if problem.strip() else ""
    cut = style(flex="1 1 12em", min_width="0", overflow="hidden", white_space="nowrap", text_overflow="ellipsis")
    cells = [
        _chip(phase),
        f'<span title="{esc(text)}" style="{cut}">“{esc(text)}”</span>',
        f'<code style="font-family:{FONT_CODE};{muted}">{esc(endpoint)}</code>',
        f'<span style="{muted}">{esc(detail)}</span>',
    ]
    if why:
        cells.append(f'<span title="{esc(problem)}" style="{muted}">{esc(why[:80])}</span>')
    row = style(display="flex", align_items="center", gap="8px", padding="2px 0", color=COLOR["fg"])
    return f'<div role="listitem" style="{row}">{"".join(cells)}</div>'


def prompt_html(prompt: str) -> str:
    """The request's prompt on one line (cut with "…", whole on hover), to tell jobs apart."""
    if not prompt.strip():
        return ""
    css = style(
        color=COLOR["fg"], font_size=FONT_SMALL, white_space="nowrap", overflow="hidden", text_overflow="ellipsis"
    )
    return (
        f'<div title="{esc(prompt)}" data-fs-alt="{esc(prompt)}" style="{css}">“{esc(" ".join(prompt.split()))}”</div>'
    )


def log_html(logs: Sequence[LogEntry], total: int) -> str:
    """The newest log lines, levels in words and colour, in a box that shows its end without JavaScript."""
    lines = []
    for entry in logs:
        level = (entry.level or "INFO").upper()
        color = COLOR[_LEVEL_COLOR.get(level, "fg")]
        stamp = entry.timestamp.strftime("%H:%M:%S ") if entry.timestamp else ""
        when = f'<span style="color:{COLOR["muted"]}">{esc(stamp)}</span>'
        tag = f'<span style="color:{color};font-weight:600">[{esc(level)}]</span>'
        lines.append(f"<div>{when}{tag} {esc(entry.message)}</div>")
    kept = f", newest {len(logs)} shown" if total > len(logs) else ""
    lines_word = "line" if total == 1 else "lines"
    # column-reverse keeps the box scrolled to its end, so the newest line is visible without JS.
    box = (
        f"display:flex;flex-direction:column-reverse;max-height:6em;overflow:auto;font-family:{FONT_CODE};"
        f"font-size:{FONT_SMALL};line-height:1.4;white-space:pre-wrap;overflow-wrap:anywhere;padding:2px 6px;"
        f"background:{COLOR['bg2']};border-radius:3px;color:{COLOR['fg']}"
    )
    return (
        f'<div style="color:{COLOR["muted"]};font-size:{FONT_SMALL}">Log ({total} {lines_word}{kept})</div>'
        f'<div role="log" aria-label="Log of the request" tabindex="0" style="{box}">'
        f"<div>{''.join(lines)}</div></div>"
    )


def error_text(error: BaseException) -> str:
    if isinstance(error, FalError):
        return f"{error.message}\nhint: {error.hint}" if error.hint else error.message
    return f"{type(error).__name__}: {error}"


def error_box(text: str, *, cancelled: bool) -> str:
    prefix = "Cancelled: " if cancelled else "Error: "
    color = COLOR["warn"] if cancelled else COLOR["error"]
    return (
        f'<div role="alert" style="color:{color};white-space:pre-wrap;font-size:{FONT_SMALL};'
        f'border-left:3px solid {color};padding-left:6px">{esc(prefix + text)}</div>'
    )
