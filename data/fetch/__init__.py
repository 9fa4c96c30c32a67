"""Fetching letters: the DWC's public IMR decision search to letter files on disk.

``python -m data.fetch`` (:mod:`data.fetch.cli`); the walk is :mod:`data.fetch.walk`, the
site's specifics :mod:`data.fetch.site`, the polite client :mod:`data.fetch.polite_http`.
"""
