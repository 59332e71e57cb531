""" "Copy as code": a runnable snippet for a request, with secrets read from the environment.

Large ``data:`` URIs are not pasted in (they can be megabytes): each becomes an ``encode_file("input-N.png")``
call with a comment saying which image to save there. Everything else is written as a Python literal. Request
options (``hint``, ``priority``, ``headers``...) follow as keyword arguments, named as fal-client names them,
so both styles take them unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, Literal

from ..._internal import images as _images
from ._image_list import describe

Style = Literal["falstudio", "fal_client"]
STYLES: tuple[Style, ...] = ("falstudio", "fal_client")
INLINE_DATA_URI_CHARS = 200  # tiny data URIs stay inline
PLACEHOLDER_ENDPOINT = "owner/endpoint-id"

_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
# fal-client's subscribe() options, which falstudio's subscribe() takes under the same names
OPTIONS = ("path", "hint", "with_logs", "interval", "priority", "headers", "start_timeout", "client_timeout")


def to_code(
    endpoint_id: str | None,
    arguments: Mapping[str, Any],
    *,
    secrets: Collection[str] = (),
    style: Style = "falstudio",
    problems: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> str:
    """Source for a ``subscribe`` call with ``arguments`` (JSON-like values; secret values are never used) and
    ``options`` (:data:`OPTIONS`: fal-client's names; None values are left out)."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(map(repr, STYLES))}, not {style!r}")
    unknown = sorted(set(options or ()) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown subscribe option(s) {', '.join(unknown)}; copy-as-code knows {', '.join(OPTIONS)}")
    keywords = [f"    {name}={_py(value)}," for name, value in (options or {}).items() if value is not None]
    module = "fs" if style == "falstudio" else "fal_client"
    files: list[str] = []
    entries: list[str] = []
    for name, value in arguments.items():
        if name in secrets:
            entries.append(f"        {_py(name)}: os.environ[{_py(name.upper())}],")
        else:
            entries += _entry(f"{_py(name)}: ", value, "        ", module, files)
    head = []
    if problems:
        head.append("# Not valid yet: " + "; ".join(f"{k}: {v}" for k, v in problems.items()))
    if files:
        head.append(f"# Save the images you added in the form as {', '.join(files)} next to this notebook.")
    imports = ["import os"] if any(n in secrets for n in arguments) else []
    if style == "falstudio":
        imports.append("import falstudio as fs")
    else:
        imports.append("import fal_client  # reads FAL_KEY from the environment")
    body = [
        f"result = {module if style == 'fal_client' else 'fs.Client()'}.subscribe(",
        f"    {_py(endpoint_id or PLACEHOLDER_ENDPOINT)},",
        "    arguments={",
        *entries,
        "    },",
        *keywords,
        ")",
    ]
    return "\n".join([*head, *imports, "", *body]) + "\n"


def _entry(prefix: str, value: Any, indent: str, module: str, files: list[str]) -> list[str]:
    """The source lines of one dict entry or list item (``prefix`` is ``"'key': "`` or ``""``)."""
    if isinstance(value, str) and _images.is_data_uri(value) and len(value) > INLINE_DATA_URI_CHARS:
        mime = value[5:].split(";", 1)[0].split(",", 1)[0]
        name = f"input-{len(files) + 1}.{_EXT.get(mime, 'png')}"
        files.append(name)
        return [f"{indent}{prefix}{module}.encode_file({_py(name)}),  # was a data URI: {describe(value)}"]
    if isinstance(value, list) and any(isinstance(v, str) and _images.is_data_uri(v) for v in value):
        inner = [line for v in value for line in _entry("", v, indent + "    ", module, files)]
        return [f"{indent}{prefix}[", *inner, f"{indent}],"]
    return [f"{indent}{prefix}{_py(value)},"]


def _py(value: Any) -> str:
    """A Python literal for a JSON-like value, strings in double quotes."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string literal is a Python one
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(str(k))}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value)
