"""Hostile uploads to the web page, run by test_web.py in a child process under RLIMIT_AS.

    python -m tests.helpers.web_hostile LIMIT_BYTES     (the tracking store from the environment)

Prints one JSON line: the status code the page answered to each upload.
"""

from __future__ import annotations

import io
import json
import resource
import sys


def post(client, url: str, field: str, data: bytes, name: str) -> int:
    return client.post(url, data={field: (io.BytesIO(data), name)}).status_code


def main(limit: int) -> dict[str, int]:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from models.store.loading import load
    from web.app import create_app
    from web.model_info import ModelInfo

    loaded = load()
    client = create_app(loaded, ModelInfo(uri=loaded.uri)).test_client()
    return {
        # under the request cap, over the size of any letter
        "big_pdf": post(client, "/batch", "files", b"%PDF-1.4\n" + b"0" * 30 * 2**20, "a.pdf"),
        "over_cap": post(client, "/letter", "letter", b"a" * 40 * 2**20, "a.txt"),
        "nested_pdf": post(
            client, "/letter", "letter", b"%PDF-1.4\n" + b"<<" * 200_000 + b"\n%%EOF", "n.pdf"
        ),
        "huge_field": client.post(
            "/", data={"case_summary": "x" * 3 * 2**20, "services": "MRI"}
        ).status_code,
        "long_csv_cell": post(
            client,
            "/batch",
            "files",
            b'case_summary,service\n"'
            + b"pain " * 200_000
            + b'",MRI of the knee\nThe worker has knee pain after a fall.,MRI of the knee\n',
            "c.csv",
        ),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
