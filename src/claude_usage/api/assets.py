"""The dashboard's files, served compressed and with validators (issue 14: page weight).

plotly.js alone is 4.8 MB; gzip makes it about 1.4 MB. Each file is compressed once (again only
when it changes on disk) and kept in memory compressed; a client that does not accept gzip gets
the file itself. Every answer carries an ``ETag`` (a digest of the content) and
``Last-Modified``; a request whose ``If-None-Match`` (or, without it, ``If-Modified-Since``)
still holds gets ``304 Not Modified`` without a body. No CDN is involved (DESIGN section 9).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
COMPRESSIBLE = (".js", ".css", ".html", ".svg")


@dataclass(frozen=True)
class _Packed:
    stamp: tuple[int, int]  # (mtime_ns, size) of the file it was made from
    etag: str
    last_modified: str
    mtime: float
    gzipped: bytes | None


class Assets:
    """Files by URL name, each served by :meth:`respond`. ``cache_control`` per name (default
    ``no-cache``: the browser revalidates, which costs a 304)."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[Path, str]] = {}
        self._packed: dict[str, _Packed] = {}
        self._lock = threading.Lock()

    def add(self, name: str, path: Path, cache_control: str = "no-cache") -> None:
        """Serve ``path`` under ``name``."""
        self._files[name] = (path, cache_control)

    def add_folder(self, folder: Path, prefix: str = "") -> None:
        """Serve every file directly in ``folder`` under ``prefix + its name``."""
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in MEDIA_TYPES:
                self.add(prefix + path.name, path)

    def __contains__(self, name: str) -> bool:
        return name in self._files

    def _pack(self, name: str) -> _Packed:
        path, _ = self._files[name]
        info = path.stat()
        stamp = (info.st_mtime_ns, info.st_size)
        with self._lock:
            known = self._packed.get(name)
        if known is not None and known.stamp == stamp:
            return known
        data = path.read_bytes()
        packed = _Packed(
            stamp,
            '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"',
            formatdate(info.st_mtime, usegmt=True),
            info.st_mtime,
            gzip.compress(data, compresslevel=9, mtime=0) if path.suffix in COMPRESSIBLE else None,
        )
        with self._lock:
            self._packed[name] = packed
        return packed

    def respond(self, name: str, request: Request) -> Response:
        """The answer for the file ``name`` (a KeyError for a name not served): 304 when the
        client's copy is current, else the file, gzip-encoded when the client accepts it."""
        path, cache_control = self._files[name]
        packed = self._pack(name)
        media_type = MEDIA_TYPES[path.suffix]
        headers = {"ETag": packed.etag, "Last-Modified": packed.last_modified, "Cache-Control": cache_control,
                   "Vary": "Accept-Encoding"}
        if _not_modified(request, packed):
            return Response(status_code=304, headers=headers)
        accepts = "gzip" in request.headers.get("accept-encoding", "").lower()
        if packed.gzipped is not None and accepts:
            return Response(packed.gzipped, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
        return FileResponse(path, media_type=media_type, headers=headers, stat_result=None)


def _not_modified(request: Request, packed: _Packed) -> bool:
    """RFC 9110 section 13: ``If-None-Match`` decides when given, else ``If-Modified-Since``."""
    tags = request.headers.get("if-none-match")
    if tags is not None:
        wanted = {tag.strip().removeprefix("W/") for tag in tags.split(",")}
        return "*" in wanted or packed.etag in wanted
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return int(packed.mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False
