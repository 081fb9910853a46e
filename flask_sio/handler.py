"""Handlers with their signature inspected once, at registration, and the table of them."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = ["Handler", "HandlerTable", "Registered", "event_values"]

Handler = Callable[..., Any]


def event_values(args: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """The values an emit sends: ``args``, or the items of a lone tuple argument.

    As in Flask-SocketIO, ``emit("ev", (a, b))`` sends two arguments, like a
    handler returning ``(a, b)`` acks with two values.
    """
    if len(args) == 1 and isinstance(args[0], tuple):
        return args[0]
    return args


def _positional_capacity(fn: Handler) -> Tuple[int, bool]:
    """(number of positional parameters, whether it takes *args), checked once."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 0, True
    count = sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    return count, any(p.kind is p.VAR_POSITIONAL for p in params)


class Registered:
    """A handler with its signature inspected at registration.

    :param fn: the handler
    """

    __slots__ = ("fn", "capacity", "varargs")

    def __init__(self, fn: Handler) -> None:
        self.fn = fn
        self.capacity, self.varargs = _positional_capacity(fn)

    def target(self, count: int) -> Handler:
        """What to call with ``count`` values: the handler itself when it takes them
        all, else ``call_with_accepted``."""
        if self.varargs or count <= self.capacity:
            return self.fn
        return self.call_with_accepted

    def call_with_accepted(self, *values: Any) -> Any:
        """Call the handler with the first of ``values``, as many as it accepts."""
        if self.varargs:
            return self.fn(*values)
        return self.fn(*values[: self.capacity])


class HandlerTable:
    """What one ``SocketIO`` registered, read by the dispatcher of each of its apps.

    The name ``"*"`` stands for every namespace (or event) without its own handler.
    """

    __slots__ = ("events", "namespaces", "error_handlers", "default_error_handler", "calls")

    def __init__(self) -> None:
        #: namespace → event → handler
        self.events: Dict[str, Dict[str, Registered]] = {}
        #: namespace → class-based ``Namespace`` (it sees every event of its namespace)
        self.namespaces: Dict[str, Any] = {}
        #: namespace → error handler ``fn(exc)``
        self.error_handlers: Dict[str, Handler] = {}
        #: the error handler of namespaces without one of their own
        self.default_error_handler: Optional[Handler] = None
        #: (namespace, event, number of values) → what the dispatcher calls for it, for
        #: events that a handler registered for the event takes; cleared by ``changed``
        self.calls: Dict[Tuple[str, str, int], Handler] = {}

    def changed(self) -> None:
        """Forget the calls found so far: a handler was added or replaced."""
        self.calls.clear()

    def namespace_names(self) -> List[str]:
        """The namespaces that have handlers (function ones first, then class-based)."""
        return [*self.events, *self.namespaces]
