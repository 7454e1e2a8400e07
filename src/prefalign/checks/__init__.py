"""The registry of the book's numerical checks.

Each chapter's checks live in ``prefalign.checks.<chapter>`` and are registered with
``@register("<chapter>")``. A check is a function of keyword parameters (each with a default:
``seed``, ``fast``, sizes) that returns a :class:`CheckResult`: the theorem it checks, what is
compared, the measured and expected values, the tolerance and whether it passed. Chapters call
:func:`run` and show the table; ``python -m prefalign checks`` runs them all without the book.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal

import numpy as np
import pandas as pd

from prefalign import validation

Relation = Literal["approx", "at_most", "at_least"]

AGAINST = {
    "hand value": "a value derived by hand (a closed form evaluated at a point, a textbook constant)",
    "brute force": "exhaustive enumeration or a dense grid, no shortcut of the theory",
    "independent algorithm": "a second algorithm that shares no code with the one checked (an LP solver, BFGS, a library)",
    "finite differences": "derivatives against central differences of the package's own map",
    "closed form vs solver": "a closed form of the theorem against a numerical solver of the defining problem",
    "simulation vs theorem": "simulated trajectories or samples against what the theorem predicts",
    "theorem's bound": "a quantity against the bound or sign the theorem asserts (the check fails if the bound is violated)",
    "identity": "two sides of an exact identity, each computed by its own code (neither side calls the other)",
    "several starts": "the same solver from several far-apart starts, against the uniqueness the theorem asserts",
    "data source": "the numbers stated by the data's own provenance file, against what the loader returns",
}
"""The kinds of independent side a check compares with (``CheckResult.against``), with what each means."""

_RELATION_TEXT = {"approx": "|measured - expected| <= tol", "at_most": "measured <= expected + tol", "at_least": "measured >= expected - tol"}


@dataclass(frozen=True)
class CheckResult:
    """One numerical check of one theorem.

    ``relation`` says how ``measured`` is compared with ``expected``: ``"approx"`` passes iff
    ``|measured - expected| <= tolerance``; ``"at_most"`` iff ``measured <= expected + tolerance``;
    ``"at_least"`` iff ``measured >= expected - tolerance``. ``against`` names the kind of
    independent side the measured value is compared with (a key of :data:`AGAINST`, required). ``details`` carries the data the check
    computed (e.g. a DataFrame), so the chapter can plot it without running the work twice.
    """

    chapter: str
    theorem: str
    compared: str
    measured: float
    expected: float
    tolerance: float
    relation: Relation = "approx"
    against: str = ""
    details: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.against not in AGAINST:
            raise ValueError(f"against must be one of {sorted(AGAINST)} (what the check compares with), got {self.against!r}")

    @property
    def passed(self) -> bool:
        m, e, t = float(self.measured), float(self.expected), float(self.tolerance)
        if not (np.isfinite(m) and np.isfinite(e)):
            return False
        if self.relation == "approx":
            return abs(m - e) <= t
        if self.relation == "at_most":
            return m <= e + t
        return m >= e - t

    def row(self) -> dict[str, Any]:
        """The table row: chapter, theorem, compared, measured, expected, tolerance, relation, against, passed."""
        return {
            "chapter": self.chapter, "theorem": self.theorem, "compared": self.compared,
            "measured": float(self.measured), "expected": float(self.expected),
            "tolerance": float(self.tolerance), "relation": _RELATION_TEXT[self.relation],
            "against": self.against, "passed": self.passed,
        }


@dataclass(frozen=True)
class Check:
    """A registered check: the chapter it belongs to, its name and the function that runs it."""

    chapter: str
    name: str
    func: Callable[..., CheckResult]

    def parameters(self) -> set[str]:
        return set(inspect.signature(self.func).parameters)


def log_uniform(rng: np.random.Generator, low: float, high: float, size: int | tuple[int, ...] | None = None):
    """``exp(U[log low, log high])``: draws spread evenly over orders of magnitude (a float when
    ``size`` is None, else an array of that shape). Requires ``0 < low < high``."""
    rng = validation.generator(rng)
    if size is not None:
        size = validation.shape(size, "size")
    low, high = validation.scalar(low, "low"), validation.scalar(high, "high")
    if not 0.0 < low < high:
        raise ValueError(f"log_uniform needs 0 < low < high, got low = {low:g}, high = {high:g}")
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


_REGISTRY: dict[str, dict[str, Check]] = {}


def register(chapter: str) -> Callable[[Callable[..., CheckResult]], Callable[..., CheckResult]]:
    """Decorator: register ``func`` as a check of ``chapter`` under the function's name."""

    def decorate(func: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        _REGISTRY.setdefault(chapter, {})[func.__name__] = Check(chapter, func.__name__, func)
        return func

    return decorate


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def chapters() -> list[str]:
    """Names of the chapters that have registered checks, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def registered(chapter: str | None = None) -> list[Check]:
    """The registered checks of ``chapter`` (all chapters if ``None``), in registration order."""
    _load_all()
    if chapter is not None:
        validation.choice(chapter, "chapter", sorted(_REGISTRY))
    names = [chapter] if chapter is not None else sorted(_REGISTRY)
    return [c for name in names for c in _REGISTRY[name].values()]


class Report:
    """The results of a run of checks.

    Keys are ``"<chapter>.<check>"``; a check can also be looked up by its bare name when that is
    unambiguous (always, within one chapter).
    """

    def __init__(self, results: Iterable[tuple[str, CheckResult]]):
        self._results = dict(results)

    def __getitem__(self, name: str) -> CheckResult:
        if name in self._results:
            return self._results[name]
        matches = [key for key in self._results if key.split(".", 1)[1] == name]
        if len(matches) != 1:
            raise KeyError(f"{name!r} names {len(matches)} checks; use '<chapter>.<check>'")
        return self._results[matches[0]]

    def __iter__(self):
        return iter(self._results.values())

    def __len__(self) -> int:
        return len(self._results)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self)

    def table(self) -> pd.DataFrame:
        """One row per check (see :meth:`CheckResult.row`), indexed by the check's name."""
        names = [key.split(".", 1)[1] for key in self._results]
        return pd.DataFrame([r.row() for r in self], index=pd.Index(names, name="check"))

    def show(self) -> "ChecksTable":
        """The table for a chapter (see :mod:`prefalign.checks.table`): the result checked (linked),
        what is compared, measured vs expected, the independent side, the verdict; full precision
        in a folded section."""
        from prefalign.checks.table import ChecksTable

        return ChecksTable(self._results.items())

    def raise_if_failed(self) -> None:
        """Raise ``AssertionError`` listing every failed check (so a chapter with a failing check fails the build)."""
        failed = [f"{name}: {r.compared}: measured {r.measured!r}, expected {r.expected!r} (tol {r.tolerance!r})"
                  for name, r in self._results.items() if not r.passed]
        if failed:
            raise AssertionError("numerical checks failed:\n" + "\n".join(failed))


def _run_one(chapter: str, name: str, kwargs: dict[str, Any]) -> CheckResult:
    """Run one registered check (in a worker process of :func:`run`)."""
    _load_all()
    return _REGISTRY[chapter][name].func(**kwargs)


def run(chapter: str | None = None, *, progress: bool = False, jobs: int = 1, **params: Any) -> Report:
    """Run the checks of ``chapter`` (all if ``None``), passing each the ``params`` it accepts.

    Every parameter must be accepted by at least one of the checks run (a misspelt parameter is
    an error, not silently ignored). With ``progress``, a tqdm bar shows the checks as they
    finish. With ``jobs > 1`` the checks run in that many worker processes (each check is
    seeded by its own parameters, so the results do not depend on ``jobs``).
    """
    selected = registered(chapter)
    accepted = set().union(*(c.parameters() for c in selected)) if selected else set()
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ValueError(f"params {unknown} are not parameters of any check of {chapter or 'the book'}; accepted: {sorted(accepted)}")
    jobs = max(1, min(int(jobs), len(selected)))
    calls = [(c.chapter, c.name, {k: v for k, v in params.items() if k in c.parameters()}) for c in selected]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(calls), desc="checks", unit="check")
    if jobs == 1:
        results = []
        for call in calls:
            results.append(_run_one(*call))
            if bar is not None:
                bar.update()
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from multiprocessing import get_context

        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_run_one, *call) for call in calls]
            for _ in as_completed(futures):
                if bar is not None:
                    bar.update()
            results = [f.result() for f in futures]
    if bar is not None:
        bar.close()
    return Report((f"{chapter}.{name}", result) for (chapter, name, _), result in zip(calls, results))
