"""A password input whose value is taken into Python and wiped from the widget.

A widget trait ends up in saved notebook widget state (``nbconvert --execute``, papermill, JupyterLab's
saveState). So the key is moved into a ``SecretStr`` held by this object as soon as it arrives, and the
Password's value is set back to ``""``; the saved state then only ever holds ``""``.
"""

from __future__ import annotations

import os
from typing import Any

import ipywidgets as w
import traitlets
from pydantic import SecretStr

from ..._internal.theme import message


class _Password(w.Password):
    """A Password that never sends a key to the browser: no echo of typed keys (ipywidgets 8 echoes every
    value it receives), and no update message for a non-empty value set from Python."""

    value = traitlets.Unicode("", help="'' once the key is taken").tag(sync=True, echo_update=False)

    def _should_send_property(self, key: str, value: Any) -> bool:
        if key == "value" and value:
            return False
        return bool(super()._should_send_property(key, value))


class SecretInput(w.VBox):
    """A key input: type or paste, press Enter (or leave the field), and the key moves into Python.

    ``is_set`` is an observable (unsynced) flag; :meth:`get` returns the ``SecretStr``.
    """

    is_set = traitlets.Bool(False, help="A key is held in Python")

    def __init__(self, label: str, description: str, *, env_var: str | None = None) -> None:
        self.label = label
        self.env_var = env_var
        self._secret: SecretStr | None = None
        self._source = ""
        env_hint = f" If ${env_var} is set, it is used by default." if env_var else ""
        self.password = _Password(
            description=label,
            placeholder="paste the key, then press Enter",
            tooltip=f"{description} It is taken into Python and cleared from this field, "
            f"so it is never saved in the notebook.{env_hint}",
            continuous_update=False,  # one message on Enter/blur, not one per keystroke
            style={"description_width": "initial"},
            layout=w.Layout(width="100%", max_width="36em"),
        )
        self.status = w.HTML()
        self.clear_button = w.Button(
            description="Clear key",
            icon="times",
            layout=w.Layout(width="auto"),
            tooltip=f"Forget the {label} held in Python",
        )
        self.help = w.HTML(message("muted", f"{description} Held in Python only, never in the notebook.{env_hint}"))
        self.password.observe(self._on_typed, "value")
        self.clear_button.on_click(lambda _: self.clear())
        super().__init__([w.HBox([self.password, self.clear_button]), self.status, self.help])
        from_env = os.environ.get(env_var, "").strip() if env_var else ""
        if from_env:
            self.set(from_env, source=f"from ${env_var}")
        else:
            self._show()

    def get(self) -> SecretStr | None:
        return self._secret

    def set(self, value: str | SecretStr | None, *, source: str = "") -> None:
        """Hold ``value`` (``None`` or ``""`` forgets the key)."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else (value or "")
        raw = raw.strip()
        self._secret = SecretStr(raw) if raw else None
        self._source = source if raw else ""
        self.is_set = self._secret is not None
        self._show()

    def clear(self) -> None:
        self.set(None)

    def _on_typed(self, change: dict[str, Any]) -> None:
        typed = change["new"]
        if not typed:
            return
        self.password.value = ""  # before anything else can read or save the trait
        self.set(typed, source="entered")

    def _show(self) -> None:
        self.clear_button.disabled = self._secret is None
        if self._secret is None:
            self.status.value = message("muted", "no key set")
        else:
            how = f" ({self._source})" if self._source else ""
            self.status.value = message("success", f"key set ✓{how} — held in Python only")

    def __repr__(self) -> str:
        return f"SecretInput({self.label!r}, {'set' if self._secret is not None else 'unset'})"
