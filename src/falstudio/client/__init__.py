"""falstudio's client for fal's queue protocol: ``AsyncClient`` (the implementation) and ``Client`` (blocking).

>>> import falstudio as fs
>>> result = fs.Client().subscribe("openai/gpt-image-2", {"prompt": "a red fox, watercolour"})
>>> result.images[0].save("fox.png")

``client.track(endpoint, arguments)`` follows one request as :class:`State` snapshots (queue position, logs,
partial images of streamed runs, the result or the error); ``client.stream(...)`` yields a streaming
endpoint's raw events. Modules load on first use (``falstudio.client.recorder``, which the history imports,
stays light).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.modules import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__)  # the public names: the imports below

if TYPE_CHECKING:
    from .._internal.images import encode_file as encode_file
    from . import errors as errors
    from . import recorder as recorder
    from ._async import AsyncClient as AsyncClient
    from ._batch import AsyncBatch as AsyncBatch
    from ._billed import BilledUnits as BilledUnits
    from ._budget import Budget as Budget
    from ._budget import process_spend as process_spend
    from ._credentials import fal_base_url as fal_base_url
    from ._credentials import has_key as has_key
    from ._credentials import is_loopback_url as is_loopback_url
    from ._handles import AsyncRequestHandle as AsyncRequestHandle
    from ._handles import SyncRequestHandle as SyncRequestHandle
    from ._platform import AsyncPlatform as AsyncPlatform
    from ._platform import Platform as Platform
    from ._platform import PlatformEstimate as PlatformEstimate
    from ._platform_admin import AliasUsage as AliasUsage
    from ._platform_admin import ApiKey as ApiKey
    from ._platform_admin import KeysFile as KeysFile
    from ._platform_admin import KeysPartlyCreatedError as KeysPartlyCreatedError
    from ._platform_admin import NewKey as NewKey
    from ._platform_admin import numbered_aliases as numbered_aliases
    from ._platform_admin import write_keys_csv as write_keys_csv
    from ._retry import RetryPolicy as RetryPolicy
    from ._state import FINAL_PHASES as FINAL_PHASES
    from ._state import Phase as Phase
    from ._state import State as State
    from ._status import Completed as Completed
    from ._status import InProgress as InProgress
    from ._status import LogEntry as LogEntry
    from ._status import Queued as Queued
    from ._status import Status as Status
    from ._storage import StorageSettings as StorageSettings
    from ._streaming import EventStream as EventStream
    from ._sync import Client as Client
    from ._sync import ClientLike as ClientLike
    from ._sync_tracking import Batch as Batch
    from ._sync_tracking import TrackedRequest as TrackedRequest
    from ._tracking import AsyncTrackedRequest as AsyncTrackedRequest
    from .files import INLINE_LIMIT as INLINE_LIMIT
    from .files import ImageSource as ImageSource
    from .files import encode_image as encode_image
    from .files import read_image as read_image
    from .results import Image as Image
    from .results import Result as Result
