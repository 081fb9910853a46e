"""Deprecated aliases: names that moved stay importable from their old module for one release."""
from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any, Callable

__all__ = ["moved_to"]


def moved_to(old_name: str, new_module: ModuleType) -> Callable[[str], Any]:
    """A module ``__getattr__`` for module ``old_name`` that serves the public names of
    ``new_module`` (its ``__all__``), each access warning with a ``DeprecationWarning``."""

    def __getattr__(name: str) -> Any:
        if name in getattr(new_module, "__all__", ()):
            warnings.warn("%s.%s moved to %s" % (old_name, name, new_module.__name__),
                          DeprecationWarning, stacklevel=2)
            return getattr(new_module, name)
        raise AttributeError("module %r has no attribute %r" % (old_name, name))

    return __getattr__
