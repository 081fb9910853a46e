"""Listeners: the event-emitter half of Socket and Namespace (on, once, off...)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

__all__ = ["Listeners"]

Handler = Callable[..., Any]


class _Once:
    __slots__ = ("owner", "event", "fn")

    def __init__(self, owner: "Listeners", event: str, fn: Handler) -> None:
        self.owner, self.event, self.fn = owner, event, fn

    def __call__(self, *args: Any) -> Any:
        self.owner.remove_listener(self.event, self)
        return self.fn(*args)


class Listeners:
    """Event listeners in registration order; methods double as decorators."""

    __slots__ = ("_listeners", "_any")

    #: event names that mean the same thing
    aliases: Dict[str, str] = {}

    def __init__(self) -> None:
        self._listeners: Optional[Dict[str, List[Handler]]] = None
        self._any: Optional[List[Handler]] = None

    def on(self, event: str, fn: Optional[Handler] = None) -> Any:
        """Add ``fn`` for ``event``; without ``fn``, return a decorator."""
        if fn is None:
            def decorator(handler: Handler) -> Handler:
                self.on(event, handler)
                return handler
            return decorator
        event = self.aliases.get(event, event)
        if self._listeners is None:
            self._listeners = {}
        self._listeners.setdefault(event, []).append(fn)
        return self

    add_listener = on

    def prepend_listener(self, event: str, fn: Handler) -> Any:
        """Add ``fn`` for ``event`` before the listeners it already has (Node's
        ``prependListener``)."""
        self.on(event, fn)
        handlers = self._listeners[self.aliases.get(event, event)]  # type: ignore[index]
        handlers.insert(0, handlers.pop())
        return self

    def once(self, event: str, fn: Optional[Handler] = None) -> Any:
        """Like ``on``, but the listener runs at most once."""
        if fn is None:
            def decorator(handler: Handler) -> Handler:
                self.once(event, handler)
                return handler
            return decorator
        return self.on(event, _Once(self, self.aliases.get(event, event), fn))

    def remove_listener(self, event: str, fn: Handler) -> Any:
        """Remove one registration of ``fn`` for ``event``."""
        event = self.aliases.get(event, event)
        handlers = (self._listeners or {}).get(event)
        if handlers:
            for i, handler in enumerate(handlers):
                if handler is fn or (isinstance(handler, _Once) and handler.fn is fn):
                    del handlers[i]
                    break
            if not handlers:
                del self._listeners[event]  # type: ignore[union-attr]
        return self

    off = remove_listener

    def remove_all_listeners(self, event: Optional[str] = None) -> Any:
        """Remove every listener of ``event``, or of every event."""
        if event is None:
            self._listeners = None
        elif self._listeners:
            self._listeners.pop(self.aliases.get(event, event), None)
        return self

    def listeners(self, event: str) -> List[Handler]:
        """The listeners of ``event`` (a copy)."""
        if not self._listeners:
            return []
        return list(self._listeners.get(self.aliases.get(event, event), ()))

    def event_names(self) -> List[str]:
        """Events that have listeners."""
        return list(self._listeners or ())

    def on_any(self, fn: Handler) -> Handler:
        """Add a catch-all listener ``fn(event, *args)`` (usable as a decorator)."""
        if self._any is None:
            self._any = []
        self._any.append(fn)
        return fn

    def off_any(self, fn: Optional[Handler] = None) -> None:
        """Remove one catch-all listener, or all of them."""
        if fn is None or not self._any:
            self._any = None
        elif fn in self._any:
            self._any.remove(fn)

    def any_listeners(self) -> List[Handler]:
        """The catch-all listeners."""
        return list(self._any) if self._any else []
