"""Fixtures of the flask_sio tests."""
from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def app() -> Flask:
    """A Flask app with a secret key (sessions work)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test"
    return app
