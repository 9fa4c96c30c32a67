"""Reading letters: one untrusted letter file (PDF or text) to one record per disputed item.

Files are read safely (:mod:`data.letters.files`), parsed in limited worker processes
(:mod:`data.letters.pool`) by the one parser (:mod:`data.letters.parser`), and turned
into rows by the one row builder (:mod:`data.letters.records`).
"""
