"""A stranger's message as an :class:`email.message.Message`, within bounds.

Asking, answering and recording all need the header fields of a message
that may come from anyone: an ``email`` object the caller already has, or
bytes or text straight from a mailbox.  The standard library parser is
used for that (it is what callers' own code hands mdnkit), but never on
more than mdnkit's reader would accept: it takes about ten times the
input in memory, is slow on a million folded lines, and recurses once per
multipart level.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy

from .errors import RequestError
from .limits import DEFAULT_LIMITS


def message_bytes(msg: object) -> bytes:
    """*msg* (bytes-like or str) as bytes; anything else is the caller's mistake."""
    if isinstance(msg, str):
        return msg.encode("utf-8", "surrogateescape")
    if isinstance(msg, bytes | bytearray | memoryview):
        return bytes(msg)
    raise RequestError(f"expected a Message, bytes or str, not {type(msg).__name__}")


def read_headers(msg: email.message.Message | bytes | str) -> email.message.Message:
    """The header fields of *msg*, its body not parsed.

    The parser sees at most ``max_header_bytes``, the most a header block
    may have; a field cut there is cut, and its reader says so.
    """
    if isinstance(msg, email.message.Message):
        return msg
    head = message_bytes(msg)[: DEFAULT_LIMITS.max_header_bytes]
    return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)


def read_message(msg: email.message.Message | bytes | str) -> email.message.Message:
    """*msg* parsed whole (body included), or only its headers where parsing
    the body would break a bound: a message larger than ``max_input_bytes``
    is refused with :class:`~mdnkit.RequestError`."""
    if isinstance(msg, email.message.Message):
        return msg
    data = message_bytes(msg)
    if len(data) > DEFAULT_LIMITS.max_input_bytes:
        raise RequestError(f"the message is larger than {DEFAULT_LIMITS.max_input_bytes} bytes")
    head = data[: DEFAULT_LIMITS.max_header_bytes]
    if len(data) > len(head) and b"\n\n" not in head and b"\n\r\n" not in head:
        # No end of the header block within what parse() would read (a 10 MB
        # header line, a million folded lines): the headers the parser can
        # see are all that is used.
        return read_headers(head)
    try:
        return email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data)
    except RecursionError:
        # A hostile message nests thousands deep; its headers are what is
        # read, and its body is kept verbatim.
        return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
