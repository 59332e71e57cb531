"""Sending a request that makes fal do work (submit, run, stream), the one way every verb does it.

Before anything leaves: the arguments are typed and validated against the endpoint's model (hand-written, or
typed from fal's schema; ``validate=False`` checks only that they are JSON), files in URL fields are uploaded,
the estimate is reserved against the client's budget (over it: refused, nothing sent) and the request is
recorded in the run history (so a process killed before the reply still leaves a trace). The body is encoded
at once into a :class:`~._protocol.JsonBody`, so secrets never sit in a frame's locals.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from . import errors
from ._protocol import JsonBody, Urls
from ._settlement import Settlement

if TYPE_CHECKING:
    import httpx

    from falstudio.endpoints import CostEstimate, EndpointSpec, RequestModel

    from ._budget import Ledger
    from ._storage import Storage
    from ._wire import Wire
    from .recorder import Recorder, Via

Arguments: TypeAlias = "Mapping[str, Any] | RequestModel"
_warned_endpoints: set[str] = set()
_UNCHECKED = (
    "to send the request without a schema (a private app, or an endpoint fal's OpenAPI service does not list), "
    "pass validate=False"
)


@dataclass(frozen=True)
class Prepared:
    """A request ready to send: its endpoint's spec (None: unknown here), the request as sent, its estimate."""

    endpoint: str
    spec: EndpointSpec | None
    request: RequestModel | dict[str, Any]
    cost: CostEstimate | None

    @property
    def note(self) -> str | None:
        """What to say about the endpoint in its errors (its lifecycle today, who bills it)."""
        return self.spec.note_on() if self.spec is not None else None


class Sender:
    """One client's way of sending requests that create work on fal (see the module docstring)."""

    def __init__(self, wire: Wire, storage: Storage, ledger: Ledger, recorder: Recorder | None) -> None:
        self.wire = wire
        self.ledger = ledger
        self.recorder = recorder
        self._storage = storage

    async def prepare(self, endpoint: str, arguments: Arguments, validate: bool = True) -> Prepared:
        """Validate (or only JSON-check) the arguments and upload their files; nothing is sent to the endpoint."""
        from ._platform import price_once  # pydantic and the endpoints load with the first request
        from .files import prepare_arguments

        Urls(self.wire.target.hosts, endpoint)  # a malformed id fails here, before any upload
        spec = await _spec(endpoint, validate)
        status = spec.status_on() if spec is not None else "active"
        if spec is not None and status != "active" and self.wire.mode == "fal" and endpoint not in _warned_endpoints:
            _warned_endpoints.add(endpoint)
            warnings.warn(f"{endpoint} is {status}: {spec.note_on()}", errors.EndpointDeprecationWarning, stacklevel=4)
        if spec is not None and spec.prices is None and self.wire.mode == "fal":  # typed from fal's schema
            await price_once(self.wire, endpoint)  # fal's unit price, so the estimate and the budget count it
        request = await prepare_arguments(self._storage, spec, arguments, endpoint=endpoint, validate=validate)
        return Prepared(endpoint, spec, request, estimate(spec, request))

    async def reserve(self, prepared: Prepared, *, via: Via = "queue", record: bool = True) -> Settlement:
        """Reserve the estimate against the budget; raises BudgetExceededError (nothing sent) when over it.

        The request's money and record move together from here on (:class:`Settlement`); ``record=False``:
        not recorded in the run history.
        """
        return await Settlement.reserve(
            self.ledger,
            self.recorder if record else None,
            prepared.endpoint,
            request=prepared.request,
            cost=prepared.cost,
            base_url=self.wire.target.base_url,
            mode=self.wire.mode,
            via=via,
        )

    async def send(
        self,
        prepared: Prepared,
        url: str,
        *,
        settlement: Settlement,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """POST the request, recorded in the history first (see :class:`Settlement`).

        Its reservation is released when the server certainly did not take the request, and kept when the reply
        was lost (it may have run and been billed: the history says so until resume settles it). That failure is
        recorded too, then raised.
        """
        try:
            settlement.sending()
            body = JsonBody(prepared.request)
        except BaseException:
            settlement.abandon()  # never sent
            raise
        try:
            return await self.wire.send(
                "POST",
                url,
                endpoint=prepared.endpoint,
                idempotent=False,
                content=body,
                headers={**(headers or {}), **body.headers},
                endpoint_note=prepared.note,
                **kwargs,
            )
        except errors.FalError as exc:
            await settlement.unanswered(exc)
            raise
        except asyncio.CancelledError as exc:  # interrupted: no awaiting now, but say what may have happened
            settlement.interrupted(exc)
            raise
        except BaseException:
            settlement.abandon()  # not taken
            raise


async def _spec(endpoint: str, validate: bool) -> EndpointSpec | None:
    """The endpoint's spec: registered, else typed from fal's schema (loaded off the loop; needed to validate)."""
    from falstudio.endpoints import REGISTRY, UnknownEndpointError, find, get
    from falstudio.endpoints.loader import SchemaUnavailableError

    if endpoint in REGISTRY:
        return REGISTRY[endpoint]
    if not validate:  # no schema needed; one already at hand still types the result and the cost
        return await asyncio.to_thread(find, endpoint)
    try:
        return await asyncio.to_thread(get, endpoint)
    except SchemaUnavailableError as exc:
        raise errors.NetworkError(str(exc), endpoint=endpoint, hint=_UNCHECKED) from exc
    except UnknownEndpointError as exc:
        raise errors.EndpointNotFoundError(str(exc), endpoint=endpoint, hint=_UNCHECKED) from exc


def estimate(spec: EndpointSpec | None, request: RequestModel | Mapping[str, Any] | None) -> CostEstimate | None:
    """The request's estimated cost, or None (no spec, or the estimate failed: an estimate is never a failure)."""
    if spec is None or request is None:
        return None
    try:
        return spec.estimate_cost(request)
    except Exception:  # an estimate is a nicety, never a failure
        return None
