"""Every public function and method of the package, fed bad and edge inputs.

The functions are discovered (every public module of ``prefalign``, every public function defined
there, every public method of every public class whose instance some function returns), not
listed, so a new module or function is covered without editing this file. For each one:

* **one bad argument at a time.** Where every required parameter has a known valid value
  (:data:`VALID`, by parameter name: a 3-response problem) and the function accepts them, each
  parameter in turn gets each value of :data:`BAD`; the call must either raise ``ValueError``
  whose message names that parameter, or return a result holding no NaN;
* **everything bad at once.** Every parameter gets the same bad value; the call must raise
  ``ValueError`` naming one of the parameters, or return a result without NaN.

Both under ``warnings.simplefilter("error")``: a warning is a failure, and so is any exception
other than ``ValueError`` (``TypeError``, ``AttributeError``, ``IndexError``, ``LinAlgError``...).

Not called, with the reason: the chapters' check modules and the registry's runner (functions of a
seed and sizes that each run for seconds; the chapter tests run them, :data:`CHECK_MODULES`) and
the modules that drive the build and the command line (:data:`SKIP_MODULES`: they start processes
and write files). A call that runs longer than :data:`CALL_SECONDS` fails (no hang on bad input).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil
import signal
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import prefalign
from prefalign import checks, dynamics, preferences
from prefalign.data.helpsteer import synthetic_helpsteer

FIXTURE = Path(__file__).resolve().parent / "data" / "helpsteer_fixture.jsonl"

SKIP_MODULES = {"prefalign.build", "prefalign.cli", "prefalign.__main__", "prefalign.notebook", "prefalign.provenance",
                "prefalign.figures", "prefalign.figure_links", "prefalign.plotting", "prefalign.abstract", "prefalign.claims",
                "prefalign.editions", "prefalign.formatting", "prefalign.printing", "prefalign.repository",
                "prefalign.phone_figure", "prefalign.figure_renderer", "prefalign.results_index"}
"""The build's machinery, not the mathematics: these modules run papermill and Sphinx, write files,
and take Sphinx applications, notebooks, file paths and matplotlib axes rather than numbers (the
editions, the PDF, the claims map and graphical abstract, the formatter and the repository address,
the figures' phone editions and their renderer, the index of results)."""

HELPER_MODULES = {"prefalign.validation", "prefalign.problem"}
"""The validators themselves: their ``name`` argument is the caller's argument name, not user input.
Every function above is fuzzed through them."""

CHECK_MODULES = "prefalign.checks."
"""The chapters' check modules (``prefalign.checks.<chapter>``): their functions are the checks and
the instance generators they draw from, run by the chapter tests with the chapters' parameters.
The registry itself (``prefalign.checks``: ``log_uniform``, ``registered``, ``chapters``) is fuzzed."""

_u = np.array([0.5, 0.3, 0.2])
_v = np.array([0.2, 0.3, 0.5])

VALID: dict[str, Any] = {
    "P": preferences.cyclic(0.2), "mu": _u, "pi": _v, "ref": np.full(3, 1 / 3), "pi0": _u, "p": _u, "q": _v,
    "mu_new": _v, "log_pi": np.log(_v), "log_p": np.log(_u), "log_q": np.log(_v), "log_ref": np.log(_u),
    "log_center": np.log(_v), "logits": np.log(_v), "alpha": 0.5, "beta": 2.0, "lam": 0.7, "a": 0.2, "K": 3, "n": 5,
    "rng": 0, "seed": 0, "steps": 3, "rounds": 3, "grad_steps": 1, "lr": 0.1, "loss": "ipo", "tol": 1e-9,
    "i": 0, "j": 1, "k": 2, "scores": np.array([1.0, 0.5, 0.0]), "order": [0, 1, 2], "alphas": np.array([0.2, 0.5]),
    "betalam": np.array([1.0, 2.0]), "samplers": np.array([[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]]),
    "wins": np.array([[0, 3, 1], [2, 0, 4], [5, 1, 0]]), "weights": np.full((3, 3), 1 / 9), "d": 2, "prompts": 2,
    "low": 0.5, "high": 2.0, "size": 2, "count": 2, "threshold": 0.5, "period": 2, "method": "ipo",
    "tie_share": 0.2, "n_prompts": 2, "n_synthetic_prompts": 2, "max_iter": 50, "signal": 1.0, "strength": 0.2,
    "top": 2, "eps": 0.01, "x": np.array([0.1, 0.0, -0.1]), "start": np.log(_u), "rule": "strict", "rho": 0.9,
    "lyapunov": -0.1, "h": np.array([1.0, -1.0, 0.0]), "l": np.array([0.0, 1.0, -1.0]), "angle": 0.5, "s": 0.5,
    "curvature": 1.0, "off_top": 0.1, "sampled": False, "features": np.full((2, 3, 2), 0.5),
    "pairs": np.array([[0, 1], [1, 2], [2, 0]]),
}
"""A valid value per required parameter, by name: one 3-response problem. Parameters with a default
keep it in the base call (and are fuzzed all the same); a function with a required parameter not
named here gets only the all-bad calls."""

_fixed = {lam: dynamics.fixed_point(VALID["P"], alpha=0.5, beta=2.0, lam=lam) for lam in (0.7, 1.0)}
_trajectory = np.log(np.array([_u, _v, _u, _v]))

VALID.update({"rho": 1.2, "data": synthetic_helpsteer(2, 0), "frame": synthetic_helpsteer(2, 0), "path": FIXTURE,
              "source": "llmfao", "name": "models.jsonl"})

ALTERNATIVES: dict[str, list[Any]] = {
    "P": [preferences.cyclic(0.2)[None], preferences.cyclic(0.2)[:, :, None], preferences.linear([0.2, 0.0, -0.2])],
    "log_pi": [_fixed[0.7], _fixed[1.0], _trajectory], "pi": [np.exp(_trajectory)],
}
"""Other valid values tried when the base call refuses the first (a function of a batch of matrices)."""


class _Opaque:
    """An object of no numeric type."""

    def __repr__(self) -> str:
        return "<opaque>"


BAD: dict[str, Any] = {
    "nan": math.nan, "inf": math.inf, "-inf": -math.inf, "complex": 0.5 + 0.1j, "complex array": _u + 0.1j,
    "numeric string": "2", "string": "nope", "None": None, "negative": -1.0, "zero": 0,
    "empty": np.array([]), "empty matrix": np.empty((0, 0)), "batch": np.tile(_u, (2, 1)),
    "wrong size": np.array([0.5, 0.5]), "matrix": np.full((3, 3), 1 / 9), "bool": True, "object": _Opaque(),
    "nested nan": [[math.nan]],
}
"""Bad or edge values, each tried for each parameter (some are valid for some parameters: then the
result must simply hold no NaN)."""


def _skipped(name: str) -> bool:
    return (name in SKIP_MODULES or name in HELPER_MODULES or any(part.startswith("_") for part in name.split(".")[1:])
            or name.startswith(CHECK_MODULES))


def _public_modules() -> list[Any]:
    names = [m.name for m in pkgutil.walk_packages(prefalign.__path__, "prefalign.")]
    return [importlib.import_module(n) for n in sorted(names) if not _skipped(n)]


def _registered_checks() -> set[Callable]:
    """The registered checks and their runner (each runs for seconds; the chapter tests run them)."""
    return {c.func for c in checks.registered()} | {checks.run}


def public_functions() -> list[tuple[str, Callable]]:
    """``(qualified name, function)`` for every public function defined in a public module."""
    skip = _registered_checks()
    out = []
    for mod in _public_modules():
        for name, obj in sorted(vars(mod).items()):
            if (not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == mod.__name__
                    and obj not in skip and not getattr(obj, "__wrapped__", None) in skip):
                out.append((f"{mod.__name__}.{name}", obj))
    return out


def public_classes() -> list[type]:
    return [obj for mod in _public_modules() for name, obj in sorted(vars(mod).items())
            if not name.startswith("_") and inspect.isclass(obj) and obj.__module__ == mod.__name__]


def _parameters(func: Callable) -> list[inspect.Parameter]:
    params = list(inspect.signature(func).parameters.values())
    return [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"]


def _base(func: Callable) -> dict[str, Any] | None:
    """Valid keyword arguments for ``func`` from :data:`VALID`, or ``None`` if a required one is unknown."""
    kwargs = {}
    for p in _parameters(func):
        if p.default is not inspect.Parameter.empty:
            continue
        if p.name not in VALID:
            return None
        kwargs[p.name] = VALID[p.name]
    return kwargs


def _has_nan(x: Any, depth: int = 0) -> bool:
    if depth > 3:
        return False
    if isinstance(x, (float, np.floating, complex, np.complexfloating)):
        return bool(np.isnan(x))
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "fc" and bool(np.isnan(x).any())
    if isinstance(x, (pd.DataFrame, pd.Series)):
        numeric = x.select_dtypes("number") if isinstance(x, pd.DataFrame) else x
        return numeric.dtype.kind in "fc" and bool(numeric.isna().any()) if isinstance(x, pd.Series) else bool(
            numeric.isna().any().any())
    if isinstance(x, dict):
        return any(_has_nan(v, depth + 1) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_has_nan(v, depth + 1) for v in x[:50])
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return any(_has_nan(getattr(x, f.name), depth + 1) for f in dataclasses.fields(x))
    return False


CALL_SECONDS = 10
"""Longest a single call may take: bad input must be refused, not looped over."""


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang(f"still running after {CALL_SECONDS} s")


def _call(func: Callable, kwargs: dict[str, Any]) -> tuple[str, Any]:
    """``("ok", result)``, ``("value", message)`` or ``("other", exception)``, warnings as errors."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CALL_SECONDS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return "ok", func(**kwargs)
        except ValueError as exc:
            return "value", str(exc)
        except Exception as exc:  # noqa: BLE001 (any other type is what the test reports)
            return "other", exc
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)


def _verdict(outcome: tuple[str, Any], names: list[str]) -> str | None:
    """``None`` if the outcome is acceptable, else what is wrong."""
    kind, value = outcome
    if kind == "ok":
        return "returned NaN" if _has_nan(value) else None
    if kind == "value" or (kind == "other" and isinstance(value, FileNotFoundError)):
        message = str(value)
        return None if any(name in message for name in names) else f"{'ValueError' if kind == 'value' else 'FileNotFoundError'} not naming {names}: {message[:160]}"
    return f"{type(value).__name__}: {str(value)[:160]}"


def _fuzz(label: str, func: Callable, base: dict[str, Any] | None) -> list[str]:
    failures = []
    params = _parameters(func)
    if base is not None:
        for p in params:
            for bad_name, bad in BAD.items():
                if bad is None and p.default is None:
                    continue  # None is this parameter's documented default
                problem = _verdict(_call(func, {**base, p.name: bad}), [p.name])
                if problem:
                    failures.append(f"{label}({p.name}={bad_name}): {problem}")
    names = [p.name for p in params]
    if params:
        for bad_name, bad in BAD.items():
            problem = _verdict(_call(func, {p.name: bad for p in params}), names)
            if problem:
                failures.append(f"{label}(all={bad_name}): {problem}")
    return failures


def _valid_base(func: Callable) -> tuple[dict[str, Any] | None, Any]:
    base = _base(func)
    if base is None:
        return None, None
    candidates = [base] + [{**base, name: alt} for name, alts in ALTERNATIVES.items() if name in base for alt in alts]
    for kwargs in candidates:
        kind, value = _call(func, kwargs)
        if kind == "ok":
            return kwargs, value
    return None, None


FUNCTIONS = public_functions()

KNOWN_GAPS: dict[str, str] = {}
"""Functions that still fail the fuzz, each with what fails: the test is an expected failure for them
(strict, so fixing one makes the test fail until its entry is removed). To be emptied."""


def test_discovery_finds_the_package():
    """The walk sees every module (a new module needs no edit here) and hundreds of functions."""
    modules = {name.rsplit(".", 1)[0] for name, _ in FUNCTIONS}
    assert {"prefalign.preferences", "prefalign.dpo", "prefalign.ipo", "prefalign.dynamics.engine",
            "prefalign.data.arena", "prefalign.checks"} <= modules
    assert len(FUNCTIONS) > 100


@pytest.mark.parametrize(("label", "func"), [
    pytest.param(name, func, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[name])) if name in KNOWN_GAPS
    else (name, func) for name, func in FUNCTIONS], ids=[name for name, _ in FUNCTIONS])
def test_function_refuses_bad_input(label, func):
    base, _ = _valid_base(func)
    failures = _fuzz(label, func, base)
    assert not failures, "\n".join(failures)


def _instances() -> dict[type, list[Any]]:
    """Instances of the package's public classes, from the results of the valid base calls."""
    wanted = set(public_classes())
    found: dict[type, list[Any]] = {}
    for _, func in FUNCTIONS:
        _, result = _valid_base(func)
        for obj in (result if isinstance(result, (list, tuple)) else [result]):
            if type(obj) in wanted and len(found.setdefault(type(obj), [])) < 1:
                found[type(obj)].append(obj)
    return found


def _public_methods(cls: type) -> list[tuple[str, Callable]]:
    return [(name, obj) for name, obj in sorted(vars(cls).items())
            if not name.startswith("_") and inspect.isfunction(obj)]


def test_methods_refuse_bad_input():
    """Each public method of each class some function returns, fuzzed like the functions."""
    failures = []
    for cls, objects in _instances().items():
        for obj in objects:
            for name, method in _public_methods(cls):
                bound = getattr(obj, name)
                base, _ = _valid_base(bound)
                failures += _fuzz(f"{cls.__name__}.{name}", bound, base)
    assert not failures, "\n".join(failures)
