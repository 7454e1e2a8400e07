"""Where numba caches the package's compiled kernels, and when the cache is renewed.

Numba's own cache (``cache=True``) stamps a compiled function with the contents of the one file that
defines it: edit a helper it calls from another file and the stale machine code is still loaded.
Here every compiled function of the package lives in :mod:`prefalign._kernels`, and its cache is
keyed by :func:`source_key`, a hash of **every** source file of that folder (and of numba's
version): a change to any kernel or helper gives a new key, hence a new cache folder and a new
stamp, and everything is compiled again.

The cache folder is ``numba-<key>`` inside ``$NUMBA_CACHE_DIR`` if that is set, else inside the
``__pycache__`` folder of :mod:`prefalign._kernels` (excluded from the chapters' cache key, see
:func:`prefalign.build.inputs_key`, so the build stays deterministic), else inside the user's
cache folder if the package folder is read-only. Folders of other keys are left in place: going
back to an earlier version of the sources (another branch) finds its machine code again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
from numba.core import caching, config

HERE = Path(__file__).resolve().parent


def source_key(folder: Path) -> str:
    """SHA-256 (hex, first 20 digits) of numba's version and of the name and bytes of every ``*.py`` in ``folder``."""
    h = hashlib.sha256(numba.__version__.encode() + b"\0")
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


def locator_for(folder: Path) -> type:
    """A numba cache locator for the functions defined in ``folder``, keyed by :func:`source_key` of it."""
    folder = Path(folder).resolve()
    key = source_key(folder)

    class KeyedLocator(caching._CacheLocator):
        def __init__(self, py_func, py_file: str, path: str):
            self._lineno = py_func.__code__.co_firstlineno
            self._path = path

        def get_cache_path(self) -> str:
            return self._path

        def get_source_stamp(self) -> str:
            return key

        def get_disambiguator(self) -> str:
            return str(self._lineno)

        @classmethod
        def from_function(cls, py_func, py_file: str):
            if Path(py_file).resolve().parent != folder:
                return None
            bases = [config.CACHE_DIR] if config.CACHE_DIR else [str(folder / "__pycache__")]
            bases.append(caching.UserWideCacheLocator(py_func, py_file).get_cache_path())
            for base in bases:
                self = cls(py_func, py_file, os.path.join(base, f"numba-{key}"))
                try:
                    self.ensure_cache_path()
                except OSError:
                    continue
                return self
            return None

    KeyedLocator.key = key
    KeyedLocator.__qualname__ = KeyedLocator.__name__ = f"KeyedLocator_{key}"
    return KeyedLocator


def install(folder: Path = HERE) -> type:
    """Put the locator of ``folder`` first in numba's list (before any kernel of it is decorated); returns it."""
    locators = caching.CacheImpl._locator_classes
    for existing in locators:
        if getattr(existing, "folder", None) == Path(folder).resolve():
            return existing
    locator = locator_for(folder)
    locator.folder = Path(folder).resolve()
    locators.insert(0, locator)
    return locator
