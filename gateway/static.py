"""Static files the gateway serves (the console, Swagger UI): kept in memory
(read again when changed on disk), answered with an ETag so a browser
revalidates cheaply and never runs a stale script after an upgrade."""
import hashlib
import mimetypes
from pathlib import Path

from werkzeug.wrappers import Response

from gateway.http import json_response

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("image/svg+xml", ".svg")


class StaticFiles:
    """The files under `root`; `answer(request, name)` is 404 for anything
    outside it (`..`, absolute paths, symlinks leading out)."""

    def __init__(self, root, cache_control="no-cache", headers=None):
        self.root = Path(root).resolve()
        self.cache_control, self.headers = cache_control, dict(headers or {})
        self._files = {}

    def _load(self, name):
        path = (self.root / name).resolve()
        if self.root not in path.parents or not path.is_file():
            return None
        mtime = path.stat().st_mtime_ns   # a file changed on disk (a developer's edit) is read again
        cached = self._files.get(name)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        body = path.read_bytes()
        entry = (body, hashlib.sha256(body).hexdigest()[:32],
                 mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        self._files[name] = (mtime, entry)
        return entry

    def answer(self, request, name, headers=None):
        entry = self._load(name)
        if entry is None:
            return json_response({"error": "not_found", "message": f"no file {name}", "details": {}}, 404)
        body, etag, mimetype = entry
        response = Response(body, mimetype=mimetype,
                            headers={"Cache-Control": self.cache_control, **self.headers, **(headers or {})})
        if mimetype.startswith("text/") or mimetype in ("image/svg+xml", "application/json"):
            response.charset = "utf-8"
        response.set_etag(etag)
        return response.make_conditional(request)
