"""The public surface, pinned (as httpx pins its exported members), and the rule that keeps it honest: no
package reaches a private (``_``) module or name of another."""

from __future__ import annotations

import ast
import importlib
import pathlib
import types

import pytest

import falstudio

PACKAGES = [
    "falstudio",
    "falstudio.client",
    "falstudio.endpoints",
    "falstudio.history",
    "falstudio.sweep",
    "falstudio.widgets",
    "falstudio.local",
    "falstudio.errors",
    "falstudio.testing",
]
SURFACE = {
    "falstudio": [
        "Arena",
        "AsyncClient",
        "Client",
        "Compare",
        "Platform",
        "Studio",
        "__version__",
        "client",
        "encode_file",
        "encode_image",
        "endpoints",
        "errors",
        "history",
        "local",
        "read_metadata",
        "sweep",
        "widgets",
    ],
    "falstudio.sweep": [
        "ENDPOINT",
        "FINAL_STATES",
        "Job",
        "JobState",
        "Sweep",
        "SweepError",
        "SweepRun",
        "Variation",
        "describe",
        "sweep",
    ],
    "falstudio.client": [
        "AliasUsage",
        "ApiKey",
        "AsyncBatch",
        "AsyncClient",
        "AsyncPlatform",
        "AsyncRequestHandle",
        "AsyncTrackedRequest",
        "Batch",
        "BilledUnits",
        "Budget",
        "Client",
        "ClientLike",
        "Completed",
        "EventStream",
        "FINAL_PHASES",
        "INLINE_LIMIT",
        "Image",
        "ImageSource",
        "InProgress",
        "KeysFile",
        "KeysPartlyCreatedError",
        "LogEntry",
        "NewKey",
        "Phase",
        "Platform",
        "PlatformEstimate",
        "Queued",
        "Result",
        "RetryPolicy",
        "State",
        "Status",
        "StorageSettings",
        "SyncRequestHandle",
        "TrackedRequest",
        "encode_file",
        "encode_image",
        "errors",
        "fal_base_url",
        "has_key",
        "is_loopback_url",
        "numbered_aliases",
        "process_spend",
        "read_image",
        "recorder",
        "write_keys_csv",
    ],
    "falstudio.endpoints": [
        "BadSchemaError",
        "CatalogEntry",
        "CostEstimate",
        "DEFAULT_ENDPOINT",
        "DEFAULT_PROMPT",
        "DEMO_PROMPT",
        "EndpointSchemaError",
        "EndpointSpec",
        "GptImage15EditRequest",
        "GptImage15Request",
        "GptImage1EditByokRequest",
        "GptImage1EditRequest",
        "GptImage1MiniEditRequest",
        "GptImage1MiniRequest",
        "GptImage1TextToImageByokRequest",
        "GptImage1TextToImageRequest",
        "GptImage2EditRequest",
        "GptImage2Request",
        "ImageFile",
        "ImageOutput",
        "ImageSize",
        "Lifecycle",
        "NO_PRICE",
        "PriceTable",
        "REDACTED",
        "REGISTRY",
        "RequestModel",
        "SchemaUnavailableError",
        "SizeNotAccepted",
        "SizeRules",
        "UnitPrice",
        "UnknownEndpointError",
        "Usage",
        "find",
        "fit_size",
        "get",
        "refresh",
        "search",
        "spec_from_openapi",
        "specs",
        "total",
    ],
    "falstudio.history": [
        "EndpointSpend",
        "ExportItem",
        "History",
        "HistoryStore",
        "HistoryWarning",
        "RunRecord",
        "Spend",
        "StoredImage",
        "Vote",
        "VoteBook",
        "default_recorder",
        "history",
        "history_dir",
        "recording_enabled",
        "write_export",
    ],
    "falstudio.widgets": ["Arena", "BeforeAfter", "Compare", "Gallery", "JobView", "RequestForm", "Studio"],
    "falstudio.local": ["Faults", "LocalServer", "create_app", "embedded_server", "find_server"],
    "falstudio.errors": [
        "AuthError",
        "BadSchemaError",
        "BudgetExceededError",
        "CatalogTruncatedWarning",
        "CatalogUnavailableError",
        "ContainerError",
        "ContentPolicyError",
        "CostConfirmationRequired",
        "EndpointDeprecationWarning",
        "EndpointGoneError",
        "EndpointNotFoundError",
        "EndpointSchemaError",
        "FalError",
        "FalTimeoutError",
        "FalstudioError",
        "FalstudioWarning",
        "HistoryWarning",
        "ImageTooLarge",
        "InvalidKeyError",
        "InvalidRequestError",
        "KeysPartlyCreatedError",
        "NetworkError",
        "NotFoundError",
        "PlatformReplyError",
        "RateLimitedError",
        "RequestCancelledError",
        "RequestNotFoundError",
        "SchemaUnavailableError",
        "ServerError",
        "SizeNotAccepted",
        "SweepError",
        "UnknownEndpointError",
    ],
    "falstudio.testing": [
        "OPENAPI_PATH",
        "FakeClock",
        "FakeFal",
        "LoopbackServer",
        "OpenAPIServer",
        "QuietHandler",
        "wait_for",
    ],
}
SRC = pathlib.Path(falstudio.__file__).parent


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_imports_and_nothing_public_is_left_out(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(set(exported)) == len(exported), "a name is exported twice"
    for member in exported:
        assert getattr(module, member) is not None or member == "ImageSource", member
    public = {
        member
        for member, value in vars(module).items()
        if not member.startswith("_") and not isinstance(value, types.ModuleType) and member != "annotations"
    }
    missing = public - set(exported) - {"TYPE_CHECKING", "Any", "lazy_exports", "make_callable", "os"}
    assert not missing, f"{name} has public names missing from __all__: {sorted(missing)}"
    if name in SURFACE:
        assert sorted(exported) == sorted(SURFACE[name])


def test_the_client_surface() -> None:
    import falstudio.client as client

    for member in ("Client", "AsyncClient", "ClientLike", "State", "TrackedRequest", "Batch", "EventStream", "errors"):
        assert member in client.__all__
    assert client.State.__module__ == "falstudio.client._state"


def test_sweep_and_history_are_modules_you_can_call() -> None:
    import falstudio.history as history_module
    import falstudio.sweep as sweep_module

    assert isinstance(sweep_module, types.ModuleType) and callable(sweep_module)
    assert isinstance(history_module, types.ModuleType) and callable(history_module)
    assert falstudio.sweep is sweep_module and falstudio.history is history_module


def _package_of(module: str, is_package: bool) -> str:
    return module if is_package else module.rpartition(".")[0]


def _imports(path: pathlib.Path, module: str) -> list[str]:
    """Every falstudio module or name ``module`` imports, as dotted paths (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _package_of(module, path.name == "__init__.py")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found += [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in found if name.startswith("falstudio")]


def test_no_package_reaches_a_private_module_or_name_of_another() -> None:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(("falstudio", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
        here = _package_of(module, path.name == "__init__.py")
        for imported in _imports(path, module):
            parts = imported.split(".")
            for i, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__") and part != "_internal":
                    owner = ".".join(parts[:i])  # the package the private part belongs to
                    if here != owner and not here.startswith(owner + "."):
                        problems.append(f"{module} imports {imported}")
                    break
    assert not problems, "\n".join(problems)
