"""A folder to share: every image (with how it was made written into the file), ``manifest.json`` and
``manifest.csv`` of the parameters, secrets redacted. Used by ``History.export`` and ``Compare.export_folder``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from falstudio._internal.images import sniff_mime
from falstudio._internal.redact import redact
from falstudio._internal.version import VERSION
from falstudio.metadata import ImageMetadata, build, embed

from ._files import atomic_write, extension
from ._record import RunRecord

MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
_SLUG = re.compile(r"[^A-Za-z0-9.=]+")


@dataclass
class ExportItem:
    """One request in an export: its manifest row, its images and the stem of their file names."""

    stem: str
    row: dict[str, Any]  # manifest fields; a "request" dict becomes one CSV column per field
    images: list[tuple[bytes, ImageMetadata | None]] = field(default_factory=list)


def write_export(folder: str | os.PathLike[str], items: Sequence[ExportItem], *, kind: str) -> Path:
    """Write ``items`` into ``folder`` (created if needed); returns the folder."""
    target = Path(folder).expanduser()
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} is a file; export to a folder (it is created if missing)")
    target.mkdir(parents=True, exist_ok=True)
    rows = []
    for item in items:
        names = []
        for index, (data, metadata) in enumerate(item.images):
            suffix = f"-{index}" if len(item.images) > 1 else ""
            name = f"{slug(item.stem)}{suffix}.{extension(sniff_mime(data))}"
            atomic_write(target / name, embed(data, metadata) if metadata is not None else data)
            names.append(name)
        rows.append(redact({**item.row, "files": names}))  # defence in depth: rows come redacted
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    manifest = {"falstudio": VERSION, "kind": kind, "created": created, "items": rows}
    atomic_write(target / MANIFEST_JSON, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    atomic_write(target / MANIFEST_CSV, _csv(rows).encode("utf-8"))
    return target


def export_records(records: Iterable[RunRecord], folder: str | os.PathLike[str]) -> Path:
    """``History.export``: one item per record, numbered in the history's order (newest first)."""
    items = []
    for number, record in enumerate(records, 1):
        data = record.image_bytes() if record.is_attached else []
        images: list[tuple[bytes, ImageMetadata | None]] = [
            (blob, record_metadata(record, i, len(data))) for i, blob in enumerate(data)
        ]
        stem = f"{number:03d}-{record.endpoint.rsplit('/', 1)[-1]}-{(record.request_id or 'no-id')[:8]}"
        items.append(ExportItem(stem, _record_row(record), images))
    return write_export(folder, items, kind="history")


def record_metadata(record: RunRecord, index: int, count: int) -> ImageMetadata:
    billed = f"{record.billed_units} {record.billed_unit or 'billable units'}" if record.billed_units else None
    return build(
        endpoint=record.endpoint,
        request=record.stored_request,
        request_id=record.request_id,
        mode=record.mode,
        created=record.finished_at or record.submitted_at,
        index=index,
        count=count,
        cost_estimate=record.cost_estimate,
        billed=billed,
    )


def slug(text: str) -> str:
    """A file-name-safe form of ``text``: letters, digits, dots and ``=``; everything else one dash."""
    return _SLUG.sub("-", text).strip("-")[:120] or "image"


def _record_row(record: RunRecord) -> dict[str, Any]:
    return {
        "request_id": record.request_id,
        "endpoint": record.endpoint,
        "server": {"local": "offline", "fal": "fal.ai"}.get(record.mode or "", "unknown"),
        "state": record.state,
        "submitted": _iso(record.submitted_at),
        "finished": _iso(record.finished_at),
        "cost_estimate": record.cost_estimate,
        "cost_usd": record.cost_amount,
        "billed_units": record.billed_units,
        "billed_unit": record.billed_unit,
        "error_type": record.error_type,
        "request": build(endpoint=record.endpoint, request=record.stored_request).request,
    }


def _iso(when: float | None) -> str | None:
    if when is None:
        return None
    return dt.datetime.fromtimestamp(when, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _csv(rows: list[dict[str, Any]]) -> str:
    """One line per request; the request's fields get columns of their own (``request.<name>`` on a clash)."""
    flat = []
    for row in rows:
        line = {k: v for k, v in row.items() if k != "request"}
        for name, value in (row.get("request") or {}).items():
            line[name if name not in line else f"request.{name}"] = value
        flat.append(line)
    columns = list(dict.fromkeys(k for line in flat for k in line))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for line in flat:
        writer.writerow({k: _cell(v, k) for k, v in line.items()})
    return out.getvalue()


def _cell(value: Any, name: str) -> Any:
    if name == "files":
        return " ".join(value)  # our own names: no spaces
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value
