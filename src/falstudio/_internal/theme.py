"""falstudio's one theme: colours, fonts and small inline-style helpers for every HTML view (widgets, history).

Only inline ``style=""`` attributes: an untrusted (reopened) notebook strips ``<style>`` and ``<script>``.
Colours are JupyterLab's ``--jp-*`` variables, with fallbacks that stay readable on light and dark
backgrounds when the variables are missing (HTML exports, GitHub, VS Code).
"""

from __future__ import annotations

import html

# name -> CSS value; use as f"color:{COLOR['error']}"
COLOR = {
    "fg": "var(--jp-ui-font-color1, inherit)",
    "muted": "var(--jp-ui-font-color2, #8a8a8a)",
    "bg": "var(--jp-layout-color1, transparent)",
    "bg2": "var(--jp-layout-color2, rgba(127, 127, 127, 0.08))",
    "border": "var(--jp-border-color2, rgba(127, 127, 127, 0.35))",
    "error": "var(--jp-error-color1, #e0403a)",
    "success": "var(--jp-success-color1, #3d9a50)",
    "warn": "var(--jp-warn-color1, #d98a1c)",
    "accent": "var(--jp-brand-color1, #3b82d6)",
}
# a request's state -> the colour it is shown in (always next to the state in words, never colour alone)
STATE_COLOR = {
    "submitting": COLOR["accent"],
    "queued": COLOR["accent"],
    "running": COLOR["accent"],
    "done": COLOR["success"],
    "failed": COLOR["error"],
    "cancelled": COLOR["muted"],
    "lost": COLOR["warn"],
}
FONT_CODE = "var(--jp-code-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace)"
FONT_SMALL = "var(--jp-ui-font-size0, 0.85em)"

FONT_UI = "var(--jp-ui-font-family, system-ui, sans-serif)"

__all__ = ["COLOR", "FONT_CODE", "FONT_SMALL", "FONT_UI", "STATE_COLOR", "esc", "message", "style"]

# The word in front of a message, so that its kind is not told by colour alone.
_PREFIX = {"error": "Error: ", "warn": "Warning: ", "success": "", "muted": ""}


def esc(value: object) -> str:
    """HTML-escape ``str(value)``, quotes included."""
    return html.escape(str(value), quote=True)


def style(**props: str | int | float) -> str:
    """``style(font_size="0.9em")`` -> ``'font-size:0.9em'`` (underscores become dashes)."""
    return ";".join(f"{k.replace('_', '-')}:{v}" for k, v in props.items())


def message(kind: str, text: str, *, role: str | None = None) -> str:
    """A one-line message in the colour of ``kind`` (error, warn, success, muted), prefixed in words."""
    role_attr = f' role="{role}"' if role else ""
    css = style(color=COLOR[kind], font_size=FONT_SMALL, line_height="1.4")
    return f'<div{role_attr} style="{css}">{esc(_PREFIX.get(kind, "") + text)}</div>'
