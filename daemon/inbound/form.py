"""Reads multipart/form-data and urlencoded bodies, whole or as they arrive, into raw fields."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from daemon.inbound.mimebuild import MalformedPayloadError

if TYPE_CHECKING:  # python-multipart defines its callback types for type checkers only
    from python_multipart.multipart import MultipartCallbacks

MAX_FORM_FIELDS = 200  # the providers send a few dozen at most
MAX_PART_HEADER_BYTES = 8 * 1024
MULTIPART = b"multipart/form-data"
URLENCODED = b"application/x-www-form-urlencoded"
DEFAULT_CHARSET = "utf-8"


class FormReader:
    """Reads a multipart/form-data or urlencoded body chunk by chunk into raw-bytes fields.

    A field is in `fields` as soon as its part has arrived, so a caller can check a signature
    sent before the bulk of the body without reading the rest. Bytes, not text: a raw MIME
    field must reach the sink exactly as sent, in any charset. Uploaded files are dropped.
    """

    def __init__(self, content_type: str) -> None:
        mime, params = parse_options_header(content_type)
        self.fields: dict[str, bytes] = {}
        self._pending = b""  # urlencoded: the pair not yet ended by "&"
        self._finished = False
        self._multipart: MultipartParser | None = None
        if mime == MULTIPART and params.get(b"boundary"):
            parts = _Parts(self.fields)
            try:
                self._multipart = MultipartParser(params[b"boundary"], parts.callbacks())
            except FormParserError as exc:  # a boundary over 256 bytes, unauthenticated: a 400
                raise MalformedPayloadError("malformed form body") from exc
        elif mime != URLENCODED:
            raise MalformedPayloadError("expected a form body")

    def feed(self, chunk: bytes) -> None:
        if self._multipart is None:
            pairs = (self._pending + chunk).split(b"&")
            self._pending = pairs.pop()
            self._add_pairs(pairs)
            return
        try:
            self._multipart.write(chunk)
        except FormParserError as exc:
            raise MalformedPayloadError("malformed form body") from exc

    def finish(self) -> dict[str, bytes]:
        """The fields, once the whole body has been fed (a second call changes nothing)."""
        if self._finished:
            return self.fields
        self._finished = True
        if self._multipart is None:
            self._add_pairs([self._pending])
            self._pending = b""
            return self.fields
        try:
            self._multipart.finalize()
        except FormParserError as exc:
            raise MalformedPayloadError("malformed form body") from exc
        return self.fields

    def _add_pairs(self, pairs: list[bytes]) -> None:
        """Byte-exact (urllib's parse_qsl re-encodes decoded values as ASCII and fails on 8-bit)."""
        for pair in filter(None, pairs):
            name, _, value = pair.partition(b"=")
            _add(
                self.fields,
                unquote_to_bytes(name.replace(b"+", b" ")),
                unquote_to_bytes(value.replace(b"+", b" ")),
            )


def _add(fields: dict[str, bytes], name: bytes, value: bytes) -> None:
    if len(fields) >= MAX_FORM_FIELDS:
        raise MalformedPayloadError("too many form fields")
    fields.setdefault(name.decode(DEFAULT_CHARSET, "replace"), value)


class _Parts:
    """MultipartParser callbacks keeping each named field part; file parts are dropped.

    Not python-multipart's FormParser: its closures form reference cycles that keep a parsed
    body alive until the garbage collector runs, which under load can be many bodies.
    """

    def __init__(self, fields: dict[str, bytes]) -> None:
        self._fields = fields
        self._header = [b"", b""]  # the header line being read: name, value
        self._name: bytes | None = None
        self._chunks: list[bytes] | None = None  # None: a file part, not kept

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, start, end: self._grow(0, data[start:end]),
            "on_header_value": lambda data, start, end: self._grow(1, data[start:end]),
            "on_header_end": self._header_end,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._name, self._chunks = None, []

    def _grow(self, index: int, data: bytes) -> None:
        self._header[index] += data
        if len(self._header[index]) > MAX_PART_HEADER_BYTES:
            raise MalformedPayloadError("malformed form body")

    def _header_end(self) -> None:
        name, value = self._header
        self._header = [b"", b""]
        if name.lower() == b"content-disposition":
            _, params = parse_options_header(value)
            self._name = params.get(b"name", b"")
            if b"filename" in params:
                self._chunks = None

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._chunks is not None:
            self._chunks.append(data[start:end])

    def _end(self) -> None:
        if self._chunks is not None:
            _add(self._fields, self._name or b"", b"".join(self._chunks))
        self._chunks = None


def parse_form(content_type: str, body: bytes) -> dict[str, bytes]:
    """Fields of a whole multipart/form-data or urlencoded body (see FormReader)."""
    reader = FormReader(content_type)
    reader.feed(body)
    return reader.finish()
