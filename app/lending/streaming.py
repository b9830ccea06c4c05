"""Serving a track: HTTP Range (206 + Content-Range, 416 for unsatisfiable ranges) from the media store,
or a redirect to a short-lived presigned URL when the store is S3 and the site asks for it.

Local files go through ``send_file`` (the WSGI server's file wrapper / sendfile where it can);
S3 objects are streamed in chunks from a ranged GET. One range per request: a multi-range request
gets the whole file (RFC 9110 allows ignoring Range), as reader apps and browsers ask for one.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask import Response, current_app, redirect, request, send_file

from app.errors import problem
from app.lending.models import AudiobookTrack
from app.storage import MediaStore

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single byte range; None = send everything; Unsatisfiable → 416."""
    if not header:
        return None
    header = header.strip()
    if not header.lower().startswith("bytes="):
        return None  # a unit we do not know is ignored (RFC 9110 §14.2)
    if "," in header:
        return None
    match = RANGE.match(header.replace(" ", ""))
    if match is None:
        raise Unsatisfiable
    first, last = match.groups()
    if not first:  # suffix range: the last N bytes
        if not last or int(last) == 0:
            raise Unsatisfiable
        return max(size - int(last), 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise Unsatisfiable
    return start, end


def if_range_holds(header: str | None, etag: str) -> bool:
    """Whether a Range may be honoured under ``If-Range`` (RFC 9110 §13.1.5): no If-Range, or the strong
    ETag of this very track. A weak ETag never matches, and a date is not trusted (the track's ETag is
    its validator): the answer is then the whole track, 200, as the RFC asks."""
    if header is None:
        return True
    return header.strip() == f'"{etag}"'


def unsatisfiable(size: int) -> Response:
    return problem(416, "range-not-satisfiable", f"The track has {size} bytes.",
                   headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"})


def presign_seconds(until: datetime, now: datetime) -> int:
    """Short-lived, and never beyond the end of the loan."""
    configured = int(current_app.config.get("LENDING_PRESIGNED_SECONDS", 300))
    return max(1, min(configured, int((until - now).total_seconds())))


def track_response(store: MediaStore, track: AudiobookTrack, *, until: datetime, now: datetime,
                   allow_redirect: bool = True) -> Response:
    etag = track.sha256[:32]
    if not if_range_holds(request.headers.get("If-Range"), etag):
        byte_range = None  # the client's copy is another version: the whole track (RFC 9110 §13.1.5)
    else:
        try:
            byte_range = parse_range(request.headers.get("Range"), track.size)
        except Unsatisfiable:
            return unsatisfiable(track.size)
    path = store.local_path(track.storage_key)
    if path is not None:
        # A Range we ignore (several ranges, another unit) gets the whole file, as from S3; werkzeug would 416.
        whole = byte_range is None and bool(request.headers.get("Range"))
        resp = send_file(path, mimetype=track.media_type, conditional=not whole, etag=etag, max_age=0)
    elif allow_redirect and current_app.config.get("LENDING_TRACK_DELIVERY", "stream") == "redirect" \
            and (url := store.presigned_url(track.storage_key, presign_seconds(until, now))):
        resp = redirect(url, 302)
    else:
        resp = _stream(store, track, byte_range, etag)
    resp.headers["Cache-Control"] = "private, max-age=0"
    resp.headers["Vary"] = "Authorization, Cookie"
    return resp


def _stream(store: MediaStore, track: AudiobookTrack, byte_range: tuple[int, int] | None, etag: str) -> Response:
    start, end = byte_range or (0, track.size - 1)
    if request.if_none_match.contains(etag) and byte_range is None:
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1), "ETag": f'"{etag}"'}
    status = 200
    if byte_range is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{track.size}"
    body = store.open_range(track.storage_key, start, end) if request.method != "HEAD" else iter(())
    return Response(body, status=status, headers=headers, mimetype=track.media_type, direct_passthrough=True)
