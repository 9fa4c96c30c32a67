"""A total deadline per request: a session whose connections another thread can cut.

``requests`` times out one read at a time: a site that sends one byte every two seconds
never trips a 60-second read timeout, and a letter can take days. :class:`Deadline` bounds
a whole request instead (connect, status line, headers and body): when the time is up, a
timer thread shuts the connection's socket down, which ends the blocked read at once, and
the caller sees the request fail with :attr:`Deadline.expired` set.

How: the session's connections (:func:`cuttable_session`) keep a duplicate of their socket
from the moment it is created, so that ``shutdown`` reaches the connection during the TLS
handshake too (the TLS layer takes the original socket over). ``shutdown`` acts on the
connection, not on one descriptor; the duplicate is closed with the connection.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class _Connections:
    """The live connections of one session, cut together (there is one at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handles: dict[int, socket.socket] = {}

    def add(self, key: int, handle: socket.socket) -> None:
        with self._lock:
            previous = self._handles.pop(key, None)
            self._handles[key] = handle
        if previous is not None:  # a connection object reconnected without closing first
            previous.close()

    def release(self, key: int) -> None:
        with self._lock:
            handle = self._handles.pop(key, None)
        if handle is not None:
            handle.close()

    def cut_all(self) -> int:
        """Shut every live connection down; the number cut."""
        cut = 0
        with self._lock:  # a connection closing meanwhile waits: its handle stays valid
            for handle in self._handles.values():
                try:
                    handle.shutdown(socket.SHUT_RDWR)
                    cut += 1
                except OSError:
                    pass  # already closed by the other side
        return cut


def _cuttable_pools(connections: _Connections) -> dict[str, type[HTTPConnectionPool]]:
    """Pool classes whose connections register with ``connections``."""

    class Cuttable:
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            connections.add(id(self), sock.dup())
            return sock

        def close(self) -> None:
            try:
                super().close()
            finally:
                connections.release(id(self))

    class HTTPConnection(Cuttable, urllib3.connection.HTTPConnection):
        pass

    class HTTPSConnection(Cuttable, urllib3.connection.HTTPSConnection):
        pass

    class HttpPool(HTTPConnectionPool):
        ConnectionCls = HTTPConnection

    class HttpsPool(HTTPSConnectionPool):
        ConnectionCls = HTTPSConnection

    return {"http": HttpPool, "https": HttpsPool}


class _CuttableAdapter(HTTPAdapter):
    """An adapter whose pools make cuttable connections (proxied ones too, except SOCKS)."""

    def __init__(self, connections: _Connections, **kwargs) -> None:
        self._connections = connections  # before super().__init__, which builds the pools
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _cuttable_pools(self._connections)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.ProxyManager:
            manager.pool_classes_by_scheme = _cuttable_pools(self._connections)
        return manager


class Deadline:
    """Arms a timer per request that cuts the session's connection when the time is up."""

    def __init__(self, connections: _Connections) -> None:
        self._connections = connections
        self.expired = False

    @contextmanager
    def running(self, seconds: float) -> Iterator[Deadline]:
        """Within this block the request has ``seconds``; afterwards ``expired`` says whether
        the time ran out (then the connection is cut and the answer incomplete)."""
        self.expired = False

        def cut() -> None:
            self.expired = True
            self._connections.cut_all()

        timer = threading.Timer(seconds, cut)
        timer.daemon = True
        timer.start()
        try:
            yield self
        finally:
            timer.cancel()
            timer.join()  # a cut in progress ends before the verdict is read


def cuttable_session(agent: str, **adapter_kwargs) -> tuple[requests.Session, Deadline]:
    """A session (``adapter_kwargs`` for its HTTP adapter, our User-Agent) and the
    :class:`Deadline` that bounds each of its requests."""
    connections = _Connections()
    session = requests.Session()
    adapter = _CuttableAdapter(connections, **adapter_kwargs)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = agent
    return session, Deadline(connections)
