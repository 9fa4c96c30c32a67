"""The web tests' page: the app over the run's one trained store, and a test client of it."""

from __future__ import annotations

import pytest

from web.app import create_app


@pytest.fixture(scope="module")
def app(trained_store):
    return create_app(trained_store.loaded, trained_store.info)


@pytest.fixture
def client(app):
    return app.test_client()
