"""The frames between the ingesting process and its parsing workers (:mod:`data.letters.pool`,
:mod:`data.letters.worker`).

Request: :data:`REQUEST` (length of a JSON header, length of the file's bytes), the header
(``suffix``, ``allow_draft``), the bytes. Reply: :data:`REPLY` (length), then JSON. Replies
are JSON, never pickle, so a worker compromised by a hostile file cannot make the parent
run code; the parent also bounds their size (:data:`MAX_REPLY_BYTES`) and checks their shape.
"""

from __future__ import annotations

import struct

REQUEST = struct.Struct(">II")
REPLY = struct.Struct(">I")
#: A reply larger than this is not a reply (100 items x a 50,000-character summary ~ 5 MB).
MAX_REPLY_BYTES = 64 * 1024 * 1024
