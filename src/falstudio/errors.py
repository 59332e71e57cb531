"""Every exception and warning falstudio raises on purpose, in one place: ``fs.errors.<Name>``.

All are :class:`FalstudioError` (warnings: :class:`FalstudioWarning`) and keep the built-in base that says what
kind of problem they are: ``except fs.errors.FalstudioError`` catches any of them, ``except ValueError`` still
catches a bad size. The client's errors about a request are :class:`FalError` (with its endpoint, request id and
HTTP status). Each name loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._internal.modules import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__)

if TYPE_CHECKING:
    from ._internal.errors import FalstudioError as FalstudioError
    from ._internal.errors import FalstudioWarning as FalstudioWarning
    from ._internal.image_chunks import ContainerError as ContainerError
    from ._internal.images import ImageTooLarge as ImageTooLarge
    from .client import KeysPartlyCreatedError as KeysPartlyCreatedError
    from .client.errors import AuthError as AuthError
    from .client.errors import BudgetExceededError as BudgetExceededError
    from .client.errors import ContentPolicyError as ContentPolicyError
    from .client.errors import EndpointDeprecationWarning as EndpointDeprecationWarning
    from .client.errors import EndpointGoneError as EndpointGoneError
    from .client.errors import EndpointNotFoundError as EndpointNotFoundError
    from .client.errors import FalError as FalError
    from .client.errors import FalTimeoutError as FalTimeoutError
    from .client.errors import InvalidKeyError as InvalidKeyError
    from .client.errors import InvalidRequestError as InvalidRequestError
    from .client.errors import NetworkError as NetworkError
    from .client.errors import NotFoundError as NotFoundError
    from .client.errors import RateLimitedError as RateLimitedError
    from .client.errors import RequestCancelledError as RequestCancelledError
    from .client.errors import RequestNotFoundError as RequestNotFoundError
    from .client.errors import ServerError as ServerError
    from .endpoints import BadSchemaError as BadSchemaError
    from .endpoints import EndpointSchemaError as EndpointSchemaError
    from .endpoints import SchemaUnavailableError as SchemaUnavailableError
    from .endpoints import SizeNotAccepted as SizeNotAccepted
    from .endpoints import UnknownEndpointError as UnknownEndpointError
    from .endpoints.catalog import CatalogTruncatedWarning as CatalogTruncatedWarning
    from .endpoints.catalog import CatalogUnavailableError as CatalogUnavailableError
    from .endpoints.catalog import PlatformReplyError as PlatformReplyError
    from .history import HistoryWarning as HistoryWarning
    from .sweep import SweepError as SweepError
    from .widgets.compare import CostConfirmationRequired as CostConfirmationRequired
