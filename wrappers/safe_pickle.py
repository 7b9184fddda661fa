"""A restricted unpickler for job data: plain data and a short list of safe classes, nothing else.

rq's default serializer runs ``pickle.loads``, which imports any module and calls any callable a
pickle names (``os.system`` through ``__reduce__``). Whoever can write a job hash in Redis could
run code in the worker. :class:`SafePickleSerializer` keeps ``dumps`` as rq's DefaultSerializer
(``pickle.dumps`` at the highest protocol, so stock rq producers and this worker write the same
bytes) and replaces ``loads`` with an unpickler whose ``find_class`` knows only:

- the builtins that plain data needs at protocols 0-3: ``set``, ``frozenset``, ``complex`` and
  ``bytearray``, and ``_codecs.encode`` (how protocols 0-2 write ``bytes``) restricted to
  ``latin1``;
- the classes of ``PICKLE_SAFE_CLASSES`` (default: ``datetime.datetime``, ``date``, ``time``,
  ``timedelta``, ``timezone``, ``decimal.Decimal``, ``uuid.UUID``);
- ``copyreg._reconstructor``, only as a checked wrapper that builds one of those safe classes
  (protocols 0-1 write ``uuid.UUID`` that way), with ``object`` as an inert marker it accepts.

Every other global raises :class:`~errors.DisallowedPickle` *before* its module is imported or
anything is called. All callables a pickle can call come from ``find_class`` (``REDUCE``,
``NEWOBJ``, ``INST``/``OBJ``), so no disallowed callable can run either; persistent ids are
refused by the base class. Lists, tuples, dicts, str, bytes, numbers, bools and None need no
global at any protocol.
"""

from __future__ import annotations

import _compat_pickle
import copyreg
import importlib
import io
import logging
import pickle
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from config import get_settings
from errors import DisallowedPickle

log = logging.getLogger(__name__)

#: Builtins plain data needs at protocols 0-3 (``set([...])``, ``complex(1, 2)``...).
PLAIN_BUILTINS = frozenset({"set", "frozenset", "complex"})
#: How protocols 4 and 5 begin: their data comes in frames, read in one go.
FRAMED = (b"\x80\x04", b"\x80\x05")


class _BaseMarker:
    """What ``builtins.object`` loads as: not callable, only accepted by the reconstructor."""

    def __repr__(self) -> str:
        return "<object marker>"


OBJECT = _BaseMarker()


def _latin1_encode(text: Any, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as protocols 0-2 use it for bytes: str to latin-1 only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise DisallowedPickle(f"job data holds a disallowed _codecs.encode call (encoding {str(encoding)[:20]!r})")
    return text.encode("latin-1")


def _bytearray(source: Any = b"", encoding: str | None = None) -> bytearray:
    """``bytearray`` from bytes, or from str with latin-1 only (protocols 0-2)."""
    if isinstance(source, bytes) and encoding is None:
        return bytearray(source)
    if isinstance(source, str) and encoding in ("latin1", "latin-1"):
        return bytearray(source, "latin-1")
    raise DisallowedPickle("job data holds a disallowed bytearray construction")


@lru_cache(maxsize=8)
def resolve_classes(names: tuple[str, ...]) -> dict[tuple[str, str], type]:
    """The safe classes named ``module.Qualname`` (operator settings: imported here, once)."""
    classes: dict[tuple[str, str], type] = {}
    for dotted in names:
        module, _, name = dotted.rpartition(".")
        found = getattr(importlib.import_module(module), name)
        if not isinstance(found, type):
            raise TypeError(f"{dotted} is not a class")
        classes[(module, name)] = found
    return classes


_last: list[Any] = [None, {}]


def safe_classes() -> dict[tuple[str, str], type]:
    """The safe classes of the current settings (resolved once per settings object)."""
    settings = get_settings()
    if _last[0] is not settings:
        _last[:] = [settings, resolve_classes(tuple(settings.PICKLE_SAFE_CLASSES))]
    classes: dict[tuple[str, str], type] = _last[1]
    return classes


def _reconstructor_for(classes: dict[tuple[str, str], type]) -> Callable[..., Any]:
    allowed = set(classes.values())

    def reconstruct(*args: Any) -> Any:
        """``copyreg._reconstructor(cls, object, None)`` for a safe class only."""
        cls = args[0] if args else None
        if len(args) != 3 or cls not in allowed or args[1] is not OBJECT or args[2] is not None:
            what = f"{cls.__module__}.{cls.__qualname__}" if isinstance(cls, type) else type(cls).__name__
            raise DisallowedPickle(f"job data holds a disallowed copyreg._reconstructor call (for {what[:100]})")
        return copyreg._reconstructor(cls, object, None)  # type: ignore[attr-defined]

    return reconstruct


def canonical(module: str, name: str) -> tuple[str, str]:
    """Python 2 names (``__builtin__``, ``copy_reg``) as Python 3 knows them, as pickle maps them."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` answers only from an allowlist (never imports)."""

    classes: dict[tuple[str, str], type] = {}

    def find_class(self, module: str, name: str) -> Any:
        module, name = canonical(module, name)
        if module == "builtins" and name in PLAIN_BUILTINS:
            return {"set": set, "frozenset": frozenset, "complex": complex}[name]
        if (module, name) == ("builtins", "bytearray"):
            return _bytearray
        if (module, name) == ("builtins", "object"):
            return OBJECT
        if (module, name) == ("_codecs", "encode"):
            return _latin1_encode
        if (module, name) in self.classes:
            return self.classes[(module, name)]
        if (module, name) == ("copyreg", "_reconstructor"):
            return _reconstructor_for(self.classes)
        raise DisallowedPickle(f"job data holds a disallowed pickle global {f'{module}.{name}'[:120]!r}")


def restricted_loads(data: bytes) -> Any:
    """``pickle.loads`` that builds only plain data and the safe classes."""
    stream: io.BufferedIOBase = io.BytesIO(data)
    if data[:2] not in FRAMED:  # unframed: a buffered reader lets the C unpickler prefetch
        stream = io.BufferedReader(io.BytesIO(data))
    unpickler = RestrictedUnpickler(stream, fix_imports=False)
    unpickler.classes = safe_classes()
    try:
        return unpickler.load()
    except DisallowedPickle as exc:
        log.warning("refused to load pickled data: %s", exc)
        raise


class SafePickleSerializer:
    """rq's serializer protocol: rq's pickle ``dumps``, the restricted ``loads``."""

    @staticmethod
    def dumps(obj: Any) -> bytes:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(data: bytes) -> Any:
        return restricted_loads(data)
