"""Fixtures of the flask_sio tests."""
from __future__ import annotations

import logging
from typing import Iterator

import pytest
from flask import Flask

from flask_sio.config import ENGINEIO_LOGGERS, SOCKETIO_LOGGERS
from sio_core import debug


@pytest.fixture
def app() -> Flask:
    """A Flask app with a secret key (sessions work)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test"
    return app


@pytest.fixture
def restore_loggers() -> Iterator[None]:
    """Put the library's loggers back as they were (``logger=`` options change them
    process-wide)."""
    saved = {}
    traced = debug.trace.channels()  # the options turn on the protocol trace too
    for name in SOCKETIO_LOGGERS + ENGINEIO_LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (logger.level, list(logger.handlers), logger.propagate)
    yield
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate
    debug.disable()
    if traced:
        debug.enable(traced)
