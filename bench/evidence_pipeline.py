"""Evidence pipeline throughput: the server-side path of a 5 MiB document (MD5 of
the plain bytes for contentMD5, AES-CBC encryption, SHA-256 of the ciphertext in
the same pass, PUT to a sink on loopback) against the limit: `cryptography`'s
AES-CBC plus SHA-256 over the same bytes in memory, measured in the same run.

Goal: at least 0.7. Usage: python bench/evidence_pipeline.py [--json out.json]
"""

from __future__ import annotations

import hashlib
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from common import arguments, best_of, report, write
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from techapi.evidence.upload import put_document
from techapi.spapi.types import UploadDestination

SIZE = 5 * 1024 * 1024
REPEAT = 15


class Sink(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        remaining = int(self.headers["Content-Length"])
        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    args = arguments(__doc__).parse_args()
    data = os.urandom(SIZE)
    key, iv = os.urandom(32), os.urandom(16)

    def limit() -> None:
        padder = padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        cipher = encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()
        hashlib.sha256(cipher).digest()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/upload"
    dest = UploadDestination("bench", url, key, iv, {"Content-Type": "image/jpeg"})
    http = httpx.Client(timeout=30)

    def path() -> None:
        hashlib.md5(data).digest()  # contentMD5 for the destination request
        put_document(http, dest, data, ("127.0.0.1",))

    path()  # warm the connection
    limit_s = best_of(limit, REPEAT)
    path_s = best_of(path, REPEAT)
    server.shutdown()
    ratio = limit_s / path_s
    result = report("evidence pipeline, 5 MiB", ratio, ">= 0.7", ratio >= 0.7,
                    limit_mb_per_s=round(SIZE / limit_s / 1e6, 1), path_mb_per_s=round(SIZE / path_s / 1e6, 1))
    write(args.json, [result])


if __name__ == "__main__":
    main()
