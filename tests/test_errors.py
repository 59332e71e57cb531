"""One root error: every exception and warning falstudio defines is a ``FalstudioError``, keeps its built-in base,
and every public one is in ``fs.errors``."""

from __future__ import annotations

import importlib
import inspect
import pathlib
import pickle
import warnings

import pytest

import falstudio
import falstudio as fs


def _every_falstudio_module() -> list[str]:
    src = pathlib.Path(falstudio.__file__).parent
    names = []
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        names.append(".".join(("falstudio", *parts)).removesuffix(".__init__"))
    return names


def _defined_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _every_falstudio_module():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, BaseException):
                owner = value.__module__
                if owner.startswith("falstudio") and (owner == name or owner == "falstudio.errors"):
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def test_every_exception_falstudio_defines_has_the_one_root() -> None:
    defined = _defined_exceptions()
    assert len(defined) >= 30  # the client's 16, endpoints' 5, sweep, history, images, local, Compare, the roots
    strays = [f"{e.__module__}.{e.__qualname__}" for e in defined if not issubclass(e, fs.errors.FalstudioError)]
    assert not strays, f"not a FalstudioError: {strays}"
    warnings_ = [e for e in defined if issubclass(e, Warning)]
    assert warnings_ and all(issubclass(w, fs.errors.FalstudioWarning) for w in warnings_)


def test_every_public_exception_is_in_fs_errors() -> None:
    public = set()
    for package in ("falstudio.client", "falstudio.endpoints", "falstudio.history", "falstudio.sweep"):
        module = importlib.import_module(package)
        public |= {n for n in module.__all__ if inspect.isclass(v := getattr(module, n)) and issubclass(v, Exception)}
    public |= {n for n in vars(importlib.import_module("falstudio.client.errors")) if n.endswith(("Error", "Warning"))}
    public.add("CostConfirmationRequired")
    assert public <= set(fs.errors.__all__), sorted(public - set(fs.errors.__all__))
    for name in fs.errors.__all__:
        assert issubclass(getattr(fs.errors, name), fs.errors.FalstudioError), name


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        ("SweepError", ValueError),
        ("SizeNotAccepted", ValueError),
        ("ImageTooLarge", ValueError),
        ("ContainerError", ValueError),
        ("InvalidRequestError", ValueError),
        ("UnknownEndpointError", LookupError),
        ("BadSchemaError", LookupError),
        ("AuthError", PermissionError),
        ("NetworkError", ConnectionError),
        ("FalTimeoutError", TimeoutError),
        ("CostConfirmationRequired", RuntimeError),
        ("HistoryWarning", UserWarning),
        ("EndpointDeprecationWarning", FutureWarning),
    ],
)
def test_each_error_keeps_its_builtin_base(error: str, builtin: type[BaseException]) -> None:
    assert issubclass(getattr(fs.errors, error), builtin)


def test_one_except_catches_errors_from_every_layer() -> None:
    caught = []
    for fail in (
        lambda: fs.endpoints.fit_size(fs.endpoints.GptImage2Request, "image_size", "1000x1000"),
        lambda: fs.endpoints.get("no-such/endpoint-at-all"),
        lambda: fs.sweep({"prompt": "a fox"}, endpoint="openai/gpt-image-2", quality=["nope"]),
    ):
        try:
            fail()
        except fs.errors.FalstudioError as error:
            caught.append(type(error).__name__)
    assert len(caught) == 3, caught


def test_the_root_pickles_and_filters_warnings() -> None:
    error = pickle.loads(pickle.dumps(fs.errors.FalstudioError("boom")))
    assert type(error) is fs.errors.FalstudioError and str(error) == "boom"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", fs.errors.FalstudioWarning)
        warnings.warn("a record could not be read", fs.errors.HistoryWarning, stacklevel=1)
        warnings.warn("not ours", UserWarning, stacklevel=1)
    assert [type(w.message) for w in seen] == [fs.errors.HistoryWarning]
