"""Keyboard and screen-reader care for widgets built from ipywidgets' controls (see ``static/a11y.js``).

``make_accessible(box)`` marks ``box`` as a falstudio root and puts an invisible helper inside it: notebook
shortcuts stay off its controls' keys, toggle groups, sliders and marked buttons get accessible names, and every
control shows a focus ring (``static/a11y.css``).
"""

from __future__ import annotations

import pathlib

import anywidget
import ipywidgets

ROOT_CLASS = "fs-root"
NAME_FROM_TITLE = "fs-name-from-title"  # a control named (for screen readers) by its tooltip
LABELLED_GROUP = "fs-labelled-group"  # a box of related controls: role=group, named by the label just before it
# A box shown over the page while it has OVERLAY_OPEN (a dialog: focus moves in, Escape presses its OVERLAY_CLOSE
# button, focus returns to where it was).
OVERLAY, OVERLAY_OPEN, OVERLAY_CLOSE = "fs-overlay", "fs-overlay-open", "fs-overlay-close"
_STATIC = pathlib.Path(__file__).parent / "static"


class _Accessibility(anywidget.AnyWidget):
    _esm = _STATIC / "a11y.js"
    _css = _STATIC / "a11y.css"


def make_accessible(box: ipywidgets.Box) -> None:
    """Give ``box`` (a widget people use) keyboard focus rings, accessible names and no stolen keys."""
    box.add_class(ROOT_CLASS)
    box.children = (*box.children, _Accessibility())


def name_by_tooltip(widget: ipywidgets.DOMWidget) -> None:
    """Let ``widget``'s tooltip be its accessible name (for buttons whose visible text repeats, "Run again")."""
    widget.add_class(NAME_FROM_TITLE)
