"""``python -m data.fetch``: the fetcher's command line (:mod:`data.fetch.cli`)."""

from data.fetch.cli import app

app()
