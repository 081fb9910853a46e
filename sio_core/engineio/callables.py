"""Node-style callables: how many positional arguments one requires, and calling one
that answers through a ``callback(err, allowed)`` instead of returning.

Applications may give socket.io's JavaScript shapes where a predicate is expected (an
origins check ``fn(origin, callback)``, a namespace matcher ``fn(name, auth, next)``);
these two functions tell the shapes apart and read the answer, for both.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, List, Optional, Tuple

__all__ = ["positional_count", "node_style_verdict"]


def positional_count(fn: Callable[..., Any]) -> int:
    """How many positional arguments ``fn`` requires (a large number for ``*args``).

    Parameters with a default do not count: ``fn(origin, extra=None)`` takes one.

    :param fn: any callable; one without a signature counts as taking one
    """
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # some builtins
        return 1
    count = 0
    for param in params:
        if param.kind is param.VAR_POSITIONAL:
            return 1 << 16
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) \
                and param.default is param.empty:
            count += 1
    return count


def node_style_verdict(fn: Callable[..., Any], *args: Any) -> Optional[bool]:
    """Call a Node-style ``fn(*args, callback)`` whose callback takes ``(err, allowed)``.

    :returns: whether the callback allowed without an error, or None when ``fn`` returned
        without calling it (the pure layer cannot wait for a later call)
    """
    verdict: List[Tuple[Any, Any]] = []
    fn(*args, lambda err=None, allowed=False: verdict.append((err, allowed)))
    if not verdict:
        return None
    err, allowed = verdict[0]
    return err is None and bool(allowed)
