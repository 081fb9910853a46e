"""Pure HTTP values: the request as the server reads it, every response it gives, and the
compression of polling bodies. Standard library only, no I/O (see README.md)."""
from .compression import choose_encoding, compress
from .request import Request, header_name, query_pairs
from .responses import (
    STATUS_TEXT,
    Response,
    error_body,
    error_response,
    not_found,
    ok_response,
    payload_response,
)

__all__ = [
    "Request", "Response", "STATUS_TEXT", "choose_encoding", "compress", "error_body",
    "error_response", "header_name", "not_found", "ok_response", "payload_response",
    "query_pairs",
]
