"""Dynamic namespaces: what decides whether a namespace name exists.

``server.of()`` takes, besides a name, a compiled regex or a callable; ``matcher_for``
turns either into one shape, ``matcher(name, auth) -> bool``.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Callable, Pattern, Union

from ..engineio.callables import node_style_verdict, positional_count

__all__ = ["Matcher", "matcher_for"]

log = logging.getLogger(__name__)

#: ``matcher(name, auth) -> bool``: whether namespace ``name`` exists for that client
Matcher = Callable[[str, Any], bool]


def matcher_for(spec: Union[Pattern[str], Callable[..., Any]]) -> Matcher:
    """The matcher of a dynamic namespace.

    :param spec: a compiled regex (the whole name must match), a callable
        ``fn(name, auth) -> bool`` (taken as is), or socket.io 4's ``fn(name, auth, next)``,
        which must call ``next(err, allowed)`` before it returns; a name it leaves undecided,
        or answers with an error, is refused
    :raises TypeError: for anything else
    """
    if isinstance(spec, re.Pattern):
        pattern = spec
        return lambda name, auth: pattern.fullmatch(name) is not None
    if not callable(spec):
        raise TypeError("of() takes a name, a compiled regex, or a callable")
    if positional_count(spec) < 3:
        return spec
    fn = spec

    def decide(name: str, auth: Any) -> bool:
        verdict = node_style_verdict(fn, name, auth)
        if verdict is None:
            log.warning("namespace matcher %r returned without calling next(); refusing %s",
                        fn, name)
            return False
        return verdict

    return decide
