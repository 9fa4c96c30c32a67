"""Helpers shared by the tests (no tests here): letters, PDF and Word files, hostile files and
models, a stand-in DWC site, web page helpers."""
