"""Theme-aware inline styles and the static ``text/html`` fallback shared by every falstudio widget.

Only inline ``style=""`` attributes: an untrusted (reopened) notebook strips ``<style>`` and ``<script>``.
Colours are JupyterLab's ``--jp-*`` variables, with fallbacks that stay readable on light and dark
backgrounds when the variables are missing (HTML exports, GitHub, VS Code).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

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
FONT_CODE = "var(--jp-code-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace)"
FONT_SMALL = "var(--jp-ui-font-size0, 0.85em)"

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


def code_block(text: str) -> str:
    """Escaped text in a scrollable ``<pre>``."""
    css = style(
        font_family=FONT_CODE,
        font_size="0.85em",
        background=COLOR["bg2"],
        color=COLOR["fg"],
        border=f"1px solid {COLOR['border']}",
        border_radius="4px",
        padding="6px 8px",
        margin="4px 0",
        overflow_x="auto",
        white_space="pre",
        max_height="24em",
    )
    return f'<pre style="{css}">{esc(text)}</pre>'


def table(rows: Iterable[tuple[str, str]], *, caption: str | None = None) -> str:
    """A two-column table; both cells are already HTML (escape plain text with :func:`esc`)."""
    cell = style(padding="2px 10px 2px 0", vertical_align="baseline", text_align="left", border="none")
    head = style(font_weight="normal", color=COLOR["muted"], font_family=FONT_CODE, font_size="0.9em")
    body = "".join(
        f'<tr><th scope="row" style="{cell};{head}">{k}</th><td style="{cell};color:{COLOR["fg"]}">{v}</td></tr>'
        for k, v in rows
    )
    cap = f'<caption style="text-align:left;color:{COLOR["muted"]}">{esc(caption)}</caption>' if caption else ""
    return f'<table style="border-collapse:collapse;margin:4px 0;background:transparent">{cap}{body}</table>'


def card(title_html: str, body_html: str) -> str:
    """The frame of a static fallback: a bordered box with a title line, transparent background."""
    box = style(
        border=f"1px solid {COLOR['border']}",
        border_radius="6px",
        padding="8px 12px",
        margin="2px 0",
        color=COLOR["fg"],
        background=COLOR["bg"],
        font_family="var(--jp-ui-font-family, inherit)",
        max_width="56em",
    )
    return f'<div style="{box}"><div style="margin-bottom:4px">{title_html}</div>{body_html}</div>'


class StaticFallback:
    """Mixin for ipywidgets: adds a static ``text/html`` view next to the live widget view.

    JupyterLab shows it when the widget model is gone (a reopened or exported notebook); nbval keeps
    comparing the deterministic ``text/plain`` repr. Put it first in the bases
    (``class JobView(StaticFallback, VBox)``) and implement :meth:`_static_html` with inline styles only.
    """

    def _static_html(self) -> str:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return self._static_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        bundle["text/html"] = self._static_html()
        return bundle
