"""Multipart bodies as a browser sends them, encoded in memory: the test client would spool a
large body to a temporary file it never closes (a ResourceWarning when the request is refused)."""
from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart


def multipart(fields: Mapping[str, str] | Iterable[tuple[str, str]],
              files: Iterable[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """``(body, content_type)`` for form ``fields`` and ``files`` as (field, filename, data)."""
    values = MultiDict(fields)
    for field, filename, data in files:
        values.add(field, FileStorage(io.BytesIO(data), filename=filename))
    boundary, body = encode_multipart(values)
    return body, f'multipart/form-data; boundary="{boundary}"'
