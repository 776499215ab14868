"""A fast, bounded reader of MIME structure, for finding and reading report parts.

Not a general MIME library: it reads just what the report parser needs, on
``bytes``, with offsets into the one input buffer.  A part body is never
decoded or copied unless the caller asks for it, so a report carrying a
20 MB returned original costs one C-level search for the boundary lines
around it.  Compared with :mod:`email`:

- delimiter lines are found by ``bytes.find`` over the whole body
  (RFC 2046 §5.1.1), never with a Python loop over lines;
- header blocks are bounded (:class:`~mdnkit.limits.Limits`) before they are
  read, and read only when a part is visited;
- nesting is walked with explicit queues by the caller; nothing here
  recurses, so a 50,000-deep bomb stops at ``max_depth``.

Line endings may be CRLF, LF, a mix of both (AS2 gateways glue LF HTTP
headers onto a CRLF body), or bare CR (old Mac mailers), which
:func:`read_message` turns into LF once for the whole input.
"""

from __future__ import annotations

import binascii
import codecs
import itertools
import operator
import re
import urllib.parse
from collections.abc import Callable, Iterator
from functools import partial
from typing import NamedTuple

from ._defects import Problems
from ._grammar import strip_comments
from .errors import ParseError, RequestError
from .limits import Limits

# A whole field (name, value with its folded lines), or a line that is not one.
# Not anchored with "^" in MULTILINE mode: the engine would then try every
# offset of the block; each match instead ends with its line break, so the
# next one starts on the next line.  Possessive runs: none could give back
# a character that the next item takes (a name is followed by neither a
# name character nor white space before its colon; a value runs to the end
# of its line, and what follows it is optional), and they spare sre the
# backtracking bookkeeping (timeit, findall over six fields of a returned
# original: 3.9 against 4.4 us).
_FIELD = re.compile(r"(?:([!-9;-~]++)[ \t]*+:(.*+(?:\n[ \t].*+)*+)|(.++(?:\n[ \t].*+)*+))\n?")
# RFC 5322 §3.6.8 ftext (printable US-ASCII except ":"), then the colon.
_FIELD_START = rb"[!-9;-~]+[ \t]*:"
_FIELD_LINE = re.compile(_FIELD_START)
# What a message's first line begins with when it is not a header field
# although _FIELD_LINE may match it: a delimiter line, an mbox "From " line.
_NOT_FIRST = (b"--", b"From ")
# RFC 2045 §5.1 token characters for type/subtype (lenient: anything but
# white space, tspecials that cannot occur in a real type, and controls,
# DEL included: a type is quoted as is in defect messages).
_MEDIA_TYPE = re.compile(
    r"[^\s()<>@,;:\\\"/\[\]?=\x00-\x1f\x7f]+/[^\s()<>@,;:\\\"/\[\]?=\x00-\x1f\x7f]+\Z"
)
# One parameter: name, "=", then a quoted-string (possibly unterminated,
# as broken generators leave them) or everything up to the next ";".
_PARAM = re.compile(
    r"""\s*(?P<name>[^\s=;"]+)\s*=\s*(?:"(?P<quoted>[^"\\]*(?:\\.[^"\\]*)*)(?:"|\Z)|(?P<token>[^;]*))""",
    re.DOTALL,
)
# RFC 2046 §5.1.1: after "--" boundary, an optional "--" (close-delimiter),
# transport padding, then the line break (or the end of the input).
_DELIMITER_TAIL = re.compile(rb"(--)?[ \t]*\r?(?:\n|\Z)")
_TAIL_AT = _DELIMITER_TAIL.match  # bound once, for _strict_spans
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
# RFC 2231 §3/§4: name*N (continuation) and a trailing "*" (extended value).
_RFC2231 = re.compile(r"(?P<base>[^*]+)(?:\*(?P<index>[0-9]{1,3}))?(?P<ext>\*)?\Z")
# RFC 4648 §4 alphabet; everything else in a base64 body is junk to drop.
_BASE64_JUNK = bytes(
    b
    for b in range(256)
    if b not in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)
_BOM = b"\xef\xbb\xbf"
_NOT_BLANK = re.compile(rb"[^\r\n \t]")
# The line break that ends a header block's last line, then the empty line
# (RFC 5322 §2.1), LF or CRLF: one C-level search finds the first of either
# form (two bytes.find calls, one per form, cost twice as much).
_BLANK_LINE = re.compile(rb"\n\r?\n")
_ENCODINGS = frozenset(("7bit", "8bit", "binary", "base64", "quoted-printable"))
_ENCODED = frozenset(("base64", "quoted-printable"))
# Content-Transfer-Encoding values as usually written (one space after
# the colon, then LF or CRLF) -> what _mechanism makes of them; any other
# value is looked at only when asked for.
_MECHANISMS = {f" {name}{cr}".encode(): name for name in _ENCODINGS for cr in ("", "\r")}
# The types whose body is a whole message (RFC 2046 §5.2.1, RFC 6532 §3.7).
MESSAGE_TYPES = frozenset(("message/rfc822", "message/global"))


class HeaderField(NamedTuple):
    """One unfolded header field; ``line`` counts from 1 in its header block.

    A named tuple rather than a dataclass: one is made per header line of
    every part visited, and tuple construction is several times cheaper.
    """

    name: str
    value: str
    line: int


class Part(NamedTuple):
    """A MIME entity located in ``buf``: header block, then body ``[body_start, end)``.

    ``head`` is the header block as text (line ends as sent), kept whole: most
    parts are asked for one to three fields, which a C-level search finds
    faster than splitting every field out (:meth:`fields` does that when
    all are wanted).  ``content_type`` is ``type/subtype`` lower-cased,
    the default applied when the header is missing (``explicit_type``
    tells which); ``params`` have lower-cased names, RFC 2231 resolved,
    and are shared: read them, never change them.  ``transfer`` is what
    :attr:`encoding` gives, when the reader learnt it with the header
    block (None: the block is searched when asked).

    A named tuple, immutable like the model's dataclasses but several
    times cheaper to build: one is made for every part visited.
    """

    buf: bytes
    body_start: int
    end: int
    head: str
    content_type: str
    params: dict[str, str]
    depth: int
    explicit_type: bool = True
    transfer: str | None = None

    def header(self, name: str) -> str | None:
        """The first value of field *name* (any case), unfolded, or None."""
        return find_field(self.head, name)

    def fields(self, problems: Problems, limits: Limits) -> tuple[HeaderField, ...]:
        """Every field of the header block, malformed lines recorded as defects."""
        return split_fields(self.head, problems, limits)

    @property
    def maintype(self) -> str:
        return self.content_type.partition("/")[0]

    @property
    def encoding(self) -> str:
        """The Content-Transfer-Encoding, lower-cased (``7bit`` when absent)."""
        if self.transfer is not None:
            return self.transfer  # learnt with the header block
        if not _has_transfer_encoding(self.head):
            return "7bit"  # the usual block, decided without a search
        found = _TRANSFER_ENCODING.search("\n" + self.head)
        return "7bit" if found is None else _mechanism(found.group(2))

    @property
    def body_size(self) -> int:
        return self.end - self.body_start

    def raw_body(self) -> bytes:
        return self.buf[self.body_start : self.end]


def _has_transfer_encoding(head: str) -> bool:
    """Whether the header block *head* has a Content-Transfer-Encoding field (any case).

    Most blocks have none, which a lower-cased copy of an ASCII block
    shows in C (0.4 against 0.7 us for the search, on the usual short
    block).  Otherwise the search decides: it alone knows the case folds
    of ``re.IGNORECASE`` for non-ASCII text (U+017F matches "s").
    """
    if head.isascii() and "content-transfer-encoding" not in head.lower():
        return False
    return _TRANSFER_ENCODING.search("\n" + head) is not None


def _mechanism(value: str) -> str:
    """RFC 2045 §6.1 ``mechanism`` (a token) of a Content-Transfer-Encoding value, lower-cased."""
    return _unfold(value).split(";")[0].strip().lower() or "7bit"


# tuple.__new__ builds a named tuple in C; calling the class runs a
# Python-level __new__, several times slower (one per part and field).
_new = tuple.__new__
_MEDIA = operator.attrgetter("content_type")


class Budget:
    """Counts parts across one message, against ``limits.max_parts``."""

    __slots__ = ("limits", "parts")

    def __init__(self, limits: Limits) -> None:
        self.limits, self.parts = limits, 0

    def count(self, n: int = 1) -> None:
        self.parts += n
        if self.parts > self.limits.max_parts:
            raise _too_many_parts(self.limits)


def _limit(what: str) -> ParseError:
    return ParseError(f"The message has {what}; refused.", code="limit-exceeded")


def _too_many_parts(limits: Limits) -> ParseError:
    return _limit(f"more than {limits.max_parts} MIME parts")


def _check_depth(depth: int, limits: Limits) -> None:
    if depth > limits.max_depth:
        raise _limit(f"MIME parts nested more than {limits.max_depth} deep")


# ---------------------------------------------------------------------------
# Input


def to_bytes(data: object, limits: Limits) -> bytes:
    """The raw octets of *data*: bytes-like, str, or an ``email.message.Message``.

    A str is encoded as UTF-8, lone surrogates (from a surrogateescape
    decode) back to the octets they stood for.  A ``Message`` is flattened
    with its own policy, then compat32, then the default policy.
    """
    if isinstance(data, bytes) and len(data) <= limits.max_input_bytes:
        return data  # the usual case: nothing to import or convert
    import email.message

    if isinstance(data, bytes):
        raw = data
    elif isinstance(data, bytearray | memoryview):
        if isinstance(data, memoryview) and data.nbytes > limits.max_input_bytes:
            raise _limit(f"more than {limits.max_input_bytes} bytes")
        raw = bytes(data)
    elif isinstance(data, str):
        if len(data) > limits.max_input_bytes:
            raise _limit(f"more than {limits.max_input_bytes} bytes")
        try:
            raw = data.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = data.encode("utf-8", "replace")
    elif isinstance(data, email.message.Message):
        raw = _flatten(data)
    else:
        raise RequestError(
            f"parse() reads bytes, str or email.message.Message, not {type(data).__name__}"
        )
    if len(raw) > limits.max_input_bytes:
        raise _limit(f"more than {limits.max_input_bytes} bytes")
    return raw


def _flatten(msg: object) -> bytes:
    import email.message
    import email.policy

    assert isinstance(msg, email.message.Message)
    errors: list[str] = []
    # The message's own policy first: it folds and encodes its header
    # objects as they were made (an EmailMessage flattened with compat32
    # RFC 2047-encodes a whole "Name <addr>" From); then the others.
    policies = [msg.policy, email.policy.compat32, email.policy.default]
    for policy in dict.fromkeys(policies):
        try:
            return msg.as_bytes(policy=policy)
        except RecursionError:
            # The generator recurses once per nesting level: a Message
            # built deeper than the interpreter allows cannot be flattened.
            raise ParseError(
                "The email.message.Message is nested too deeply to be flattened; refused.",
                code="limit-exceeded",
            ) from None
        except (ValueError, TypeError, LookupError, AttributeError, IndexError) as exc:
            # as_bytes() raises these on undecodable payloads or header
            # objects the generator cannot fold (UnicodeError is a ValueError).
            errors.append(f"{type(exc).__name__}: {exc}")
    raise ParseError(
        "The email.message.Message could not be flattened to bytes: " + "; ".join(errors),
        code="unreadable-message",
    )


# ---------------------------------------------------------------------------
# Header blocks


def _read_head(buf: bytes, start: int, end: int, limits: Limits) -> tuple[str, int]:
    """The header block at *start* as text, and the body start.

    The block ends at the first empty line (RFC 5322 §2.1), LF or CRLF,
    looked for with one C-level search no further than
    ``max_header_bytes`` ahead, so an endless header costs at most that
    much scanning.  RFC 2046 §5.1.1: a part with no header fields starts
    with a blank line.  A part whose first line is not a field at all (a
    generator that forgot the blank line) is read as having none, so its
    text is not lost into a header block.  Field count and field length
    are checked with C-level counts.  One of these runs for every part.
    """
    if _FIELD_LINE.match(buf, start, end) is None:
        return _no_head(buf, start, end)
    # The usual block ends within the _window of the limits, where none of
    # the checks of _read_long_head can fail.  A match found there is the
    # first empty line of the whole block (an earlier one would lie in it
    # too).  (No min(): in CPython 3.11 it parses keywords on every call.)
    window = _window(limits)
    stop = start + window
    blank = _BLANK_LINE.search(buf, start, stop if stop < end else end) if window else None
    if blank is None:
        if window and stop >= end:
            # The whole part, searched: a block that ends where the part
            # does (the returned headers of a text/rfc822-headers part).
            return _whole_head(buf, start, end, limits)
        return _read_long_head(buf, start, end, limits)
    # _head_text, written out for the usual UTF-8 (or ASCII) block: one
    # call fewer for every part; legacy 8-bit text goes through it.
    try:
        return buf[start : blank.start()].decode().rstrip("\r\n"), blank.end()
    except UnicodeDecodeError:
        return _head_text(buf[start : blank.start()]), blank.end()


def _no_head(buf: bytes, start: int, end: int) -> tuple[str, int]:
    """A part whose first line is not a field: no header block (see :func:`_read_head`)."""
    if buf.startswith(b"\n", start, end):
        return "", start + 1
    if buf.startswith(b"\r\n", start, end):
        return "", start + 2
    return "", min(start, end)


def _read_long_head(buf: bytes, start: int, end: int, limits: Limits) -> tuple[str, int]:
    """:func:`_read_head` for a block that does not end within its short window: all bounds checked."""
    max_bytes = limits.max_header_bytes
    stop = min(start + max_bytes + 3, end)
    blank = _BLANK_LINE.search(buf, start, stop)
    if blank is None:
        if stop < end:
            raise _limit(f"a header block longer than {max_bytes} bytes")
        return _whole_head(buf, start, end, limits)
    if blank.start() - start > max_bytes:
        raise _limit(f"a header block longer than {max_bytes} bytes")
    head = _head_text(buf[start : blank.start()])
    _check_head(head, limits)
    return head, blank.end()


def _whole_head(buf: bytes, start: int, end: int, limits: Limits) -> tuple[str, int]:
    """The header block of a part with no empty line: all of it, checked; no body."""
    head = _head_text(buf[start:end])
    _check_head(head, limits)
    return head, end


def _head_text(block: bytes) -> str:
    """A header block as text, the line break before its empty line stripped.

    RFC 6532 allows UTF-8 in header fields; anything else is legacy 8-bit
    text, kept octet for octet as Latin-1 rather than replaced.  CRLF
    stays: a CR ends each value and is stripped with it (_unfold).
    """
    try:
        return block.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return block.decode("latin-1").rstrip("\r\n")


def _check_head(head: str, limits: Limits) -> None:
    """Field count and field length of a header block, checked with C-level counts."""
    # A field takes at least three characters ("a:" and a line break), so
    # short blocks cannot hold too many; long ones are counted in C.
    if len(head) >= 3 * limits.max_header_fields:
        count = head.count("\n") + 1 - head.count("\n ") - head.count("\n\t")
        if count > limits.max_header_fields:
            raise _limit(f"more than {limits.max_header_fields} header fields in one block")
    if len(head) > limits.max_line_bytes:
        longest = max(len(m.group(0)) for m in _FIELD.finditer(head))
        if longest > limits.max_line_bytes:
            raise _limit(f"a header field longer than {limits.max_line_bytes} bytes")


def split_fields(head: str, problems: Problems, limits: Limits) -> tuple[HeaderField, ...]:
    """Every field in the header block *head* (CRLF or LF line ends), unfolded.

    RFC 5322 §2.2 / §3.6::

        field      = field-name ":" unstructured CRLF
        field-name = 1*ftext
        folding    = CRLF 1*WSP   ; §2.2.3: unfolding removes the CRLF only

    Tolerated: any case, no space after the colon, white space before it
    (RFC 5322 §4.5 obsolete syntax).  A line that is neither a field nor a
    continuation is recorded as a defect and skipped.  ``line`` counts
    from 1 in the block.
    """
    fields: list[HeaderField] = []
    line = 1
    # findall builds the (name, value, junk) tuples in C.
    for name, value, junk in _FIELD.findall(head):
        number = line
        if name:
            line += 1 + value.count("\n")
            fields.append(_new(HeaderField, (name, _unfold(value), number)))
            continue
        line += 1 + junk.count("\n")
        problems.add(
            "malformed-header",
            "A header line is not a 'name: value' field; it was skipped.",
            source=junk[:200],
        )
    if len(fields) > limits.max_header_fields:
        raise _limit(f"more than {limits.max_header_fields} header fields in one block")
    return tuple(fields)


def read_fields(
    buf: bytes, start: int, end: int, problems: Problems, limits: Limits
) -> tuple[tuple[HeaderField, ...], int]:
    """The fields of the header block at *start*, and the body start."""
    head, body_start = _read_head(buf, start, end, limits)
    return split_fields(head, problems, limits), body_start


def _unfold(value: str) -> str:
    # RFC 5322 §2.2.3: unfolding removes the line breaks, keeps the WSP.
    # (str.replace returns a one-line value as it is, at C speed.)
    return value.replace("\r\n", "").replace("\n", "").strip(" \t\r")


def find_fields(part: Part, names: re.Pattern[str]) -> dict[str, str]:
    """The first value of each field that *names* matches, keyed by lower-cased name.

    *names* is a :func:`field_pattern` compiled once by the caller: one
    C-level ``findall`` over the block instead of one :func:`find_field`
    per name (a report's own Message-ID, Date, From, Subject ...).
    """
    # Reversed, so that the first field of each name is the one kept; each
    # value unfolded (_unfold, written out for the usual one-line value).
    # A loop, not a dict comprehension: for the usual four to six rows it
    # makes no function object (6.9 against 7.2 us on the corpus).
    found: dict[str, str] = {}
    for name, value in reversed(names.findall("\n" + part.head)):
        found[name.lower()] = value.strip(" \t\r") if "\n" not in value else _unfold(value)
    return found


def field_pattern(*names: str) -> re.Pattern[str]:
    """A pattern for :func:`find_fields`: any of *names* (any case) at a line start.

    Searched in ``"\\n" + head``.  The literal line break first lets the
    regex engine jump from line start to line start; a pattern compiled
    with ``re.IGNORECASE`` as a whole has no literal prefix and tries
    every offset (twenty times slower on a long header block).  The
    value runs on over folded lines (RFC 5322 §2.2.3); obsolete white
    space before the colon is allowed (§4.5.3).
    """
    alternatives = "|".join(re.escape(name) for name in names)
    # With several names, a look-ahead for their first letters: the
    # engine enters no alternative for the many lines (Received, folds)
    # that begin otherwise (six names over a 1.4 KB block of Received
    # fields: 7.3 us without it, 6.1 us with it).  Case-insensitive like
    # the names, so that it lets through the same non-ASCII case folds
    # (U+017F for "s", U+0130 and U+0131 for "i", U+212A for "k").
    firsts = "".join(sorted({name[:1].lower() for name in names}))
    lead = f"(?=(?i:[{re.escape(firsts)}]))" if len(names) > 1 else ""
    # Possessive runs, as in _FIELD: the value ends the pattern, so its
    # first, longest reading always stands.
    return re.compile(rf"\n{lead}(?i:({alternatives}))[ \t]*+:([^\n]*+(?:\n[ \t][^\n]*+)*+)")


def find_field(head: str, name: str) -> str | None:
    """The first value of field *name* (any case) in the header block *head*, unfolded, or None."""
    found = field_pattern(name).search("\n" + head)  # re keeps the compiled pattern
    return None if found is None else _unfold(found.group(2))


# ---------------------------------------------------------------------------
# Content-Type


# Content-Type values repeat across parts and messages ("text/plain;
# charset=utf-8"); the reading of a value that raised no defect is kept.
# A pure function's memo, bounded; the parameter dicts it hands out are
# shared and must not be changed.
# (Looked up with a None value too, for a missing field: never stored.)
_CONTENT_TYPES: dict[tuple[str | None, str], tuple[str, dict[str, str], bool]] = {}
_CONTENT_TYPES_MAX = 512


def parse_content_type(
    value: str | None, problems: Problems, *, default: str = "text/plain"
) -> tuple[str, dict[str, str], bool]:
    """(``type/subtype`` lower-cased, parameters, whether the value was usable).

    See :func:`_parse_content_type`; readings without defects are memoised.
    """
    if value is None:
        return default, {}, False
    key = (value, default)
    known = _CONTENT_TYPES.get(key)
    if known is not None:
        return known
    before = (len(problems), problems.dropped)
    result = _parse_content_type(value, problems, default)
    if (len(problems), problems.dropped) == before and len(value) <= 512:
        if len(_CONTENT_TYPES) >= _CONTENT_TYPES_MAX:
            _CONTENT_TYPES.clear()
        _CONTENT_TYPES[key] = result
    return result


def _parse_content_type(
    value: str, problems: Problems, default: str
) -> tuple[str, dict[str, str], bool]:
    """(``type/subtype`` lower-cased, parameters, whether the value was usable).

    RFC 2045 §5.1 and RFC 2231 §3-§4::

        content := "Content-Type" ":" type "/" subtype *(";" parameter)
        parameter := attribute "=" value
        value := token / quoted-string
        extended-parameter := (ext-octet-name / ext-section ...) "=" ...
                              ; name*0*=utf-8'en'%E2%82%AC  name*1=...

    Parameter names are case-insensitive (``Report-Type=``, Sterling); a
    trailing ``;``, junk segments without ``=`` (Tiscali wrote
    ``; Content-Transfer-Encoding: 8bit`` inside the value) and an
    unterminated quote are tolerated, junk with a defect.
    """
    semi = value.find(";")
    head, rest = (value, "") if semi == -1 else (value[:semi], value[semi + 1 :])
    media = _strip_comments(head).strip().lower()
    usable = True
    if not _MEDIA_TYPE.match(media):
        problems.add(
            "malformed-content-type",
            f"Content-Type {media!r} is not type/subtype; read as {default}.",
            field="Content-Type",
        )
        media, usable = default, False
    raw: dict[str, str] = {}
    if "*" not in rest and "\\" not in rest and "(" not in rest:
        # The common case (no RFC 2231, no quoted-pairs): plain splitting,
        # unless a quoted value holds a ";" (an odd number of quotes).
        if _split_params(rest, raw, problems):
            return media, raw, usable
        raw.clear()
    pos = 0
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if m is None:
            nxt = rest.find(";", pos)
            junk = rest[pos : nxt if nxt != -1 else len(rest)].strip()
            if junk:
                problems.add(
                    "malformed-content-type",
                    f"Junk {junk[:60]!r} in the Content-Type parameters was ignored.",
                    field="Content-Type",
                )
            if nxt == -1:
                break
            pos = nxt + 1
            continue
        if m.group("quoted") is not None:
            pval = m.group("quoted")
            if "\\" in pval:
                pval = _QUOTED_PAIR.sub(r"\1", pval)
        else:
            pval = (m.group("token") or "").strip()
        raw.setdefault(m.group("name").lower(), pval)
        pos = m.end()
        nxt = rest.find(";", pos)
        if nxt == -1:
            if rest[pos:].strip():
                problems.add(
                    "malformed-content-type",
                    f"Junk {rest[pos:].strip()[:60]!r} after a Content-Type parameter was ignored.",
                    field="Content-Type",
                )
            break
        if rest[pos:nxt].strip():
            problems.add(
                "malformed-content-type",
                f"Junk {rest[pos:nxt].strip()[:60]!r} after a Content-Type parameter was ignored.",
                field="Content-Type",
            )
        pos = nxt + 1
    return media, _rfc2231(raw, problems), usable


def _split_params(rest: str, raw: dict[str, str], problems: Problems) -> bool:
    """Fill *raw* from ``;``-separated ``name=value`` pairs; False if quoting needs the full scanner."""
    junk: list[str] = []
    for segment in rest.split(";"):
        pname, eq, pval = segment.partition("=")
        if not eq:
            if segment.strip():
                junk.append(segment.strip())
            continue
        pval = pval.strip()
        if pval[:1] == '"':
            if len(pval) < 2 or pval[-1] != '"' or '"' in pval[1:-1]:
                return False  # a ";" inside quotes, or junk after them
            pval = pval[1:-1]
        elif '"' in pval:
            return False
        pname = pname.strip().lower()
        if not pname or " " in pname:
            return False
        raw.setdefault(pname, pval)
    for text in junk:
        problems.add(
            "malformed-content-type",
            f"Junk {text[:60]!r} in the Content-Type parameters was ignored.",
            field="Content-Type",
        )
    return True


def _strip_comments(text: str) -> str:
    # RFC 2045 allows (comments) in structured fields; rare in Content-Type,
    # so the grammar's reader (nesting, quoted pairs, bounds) runs only then.
    if "(" not in text:
        return text
    return strip_comments(text)[0]


def _rfc2231(raw: dict[str, str], problems: Problems) -> dict[str, str]:
    """Join RFC 2231 continuations and decode extended values."""
    if not any("*" in k for k in raw):
        return raw
    out: dict[str, str] = {}
    sections: dict[str, list[tuple[int, bool, str]]] = {}
    for key, val in raw.items():
        m = _RFC2231.match(key)
        if m is None or (m.group("index") is None and m.group("ext") is None):
            out.setdefault(key, val)
            continue
        index = int(m.group("index")) if m.group("index") is not None else 0
        sections.setdefault(m.group("base"), []).append((index, m.group("ext") is not None, val))
    for base, parts in sections.items():
        parts.sort(key=lambda p: p[0])
        charset = "us-ascii"
        pieces: list[bytes] = []
        for n, (_, extended, section) in enumerate(parts):
            text = section
            if extended:
                if n == 0 and text.count("'") >= 2:
                    charset, _lang, text = text.split("'", 2)
                    charset = charset or "us-ascii"
                pieces.append(urllib.parse.unquote_to_bytes(text))
            else:
                pieces.append(text.encode("utf-8", "surrogateescape"))
        out[base] = decode_text(b"".join(pieces), charset, problems, field="Content-Type")
    return out


# ---------------------------------------------------------------------------
# Bodies


# Labels read as UTF-8 by decode_text: UTF-8 itself and US-ASCII, since
# mislabelled 8-bit text is common and UTF-8 is the better guess.
_UTF8_READ = frozenset(("utf-8", "utf8", "us-ascii", "ascii"))


def decode_text(
    data: bytes, charset: str | None, problems: Problems, *, field: str | None = None
) -> str:
    """*data* decoded with *charset*; unknown charsets read as UTF-8, with a defect.

    Only text encodings are used: ``codecs`` also knows ``rot13``, ``hex``
    or ``zlib``, which a hostile charset parameter must not reach, and
    ``idna`` raises on any error handler but strict.
    """
    if charset is None or charset in _UTF8_READ:
        # No label, or a usual one as written: read as below, without
        # normalising it first.
        return data.decode("utf-8", "replace")
    name = charset.strip().strip('"').lower() or "us-ascii"
    if name in _UTF8_READ:
        # The usual labels, read as UTF-8 as below, without a codec lookup.
        return data.decode("utf-8", "replace")
    try:
        info = codecs.lookup(name)
        if not getattr(info, "_is_text_encoding", True) or info.name == "idna":
            raise LookupError(name)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        problems.add(
            "unknown-charset", f"Unknown charset {name[:40]!r}; read as UTF-8.", field=field
        )
        return data.decode("utf-8", "replace")
    if info.name == "ascii":
        # Mislabelled 8-bit text is common; UTF-8 is the better guess.
        info = codecs.lookup("utf-8")
    try:
        return data.decode(info.name, "replace")
    except (UnicodeError, ValueError, LookupError):
        return data.decode("utf-8", "replace")


def plain_body(part: Part) -> bytes | None:
    """The body of *part* when it is 7bit (RFC 2045 §6.1: nothing to undo), else None.

    7bit as learnt with the header block, or, when the block was not read
    for it, for want of a Content-Transfer-Encoding field.  The usual case
    of :func:`decode_body`, without its ``encoding`` property and keyword
    call, for the parser's report and human-readable parts.
    """
    transfer = part.transfer
    if transfer is None:
        if _has_transfer_encoding(part.head):
            return None
    elif transfer != "7bit":
        return None
    return part.buf[part.body_start : part.end]


def decode_body(part: Part, problems: Problems, *, max_bytes: int | None = None) -> bytes:
    """The body of *part* with its Content-Transfer-Encoding undone.

    RFC 2045 §6.8 base64 is read leniently (junk dropped, padding
    repaired, each with a defect); quoted-printable with ``binascii``.
    With *max_bytes*, a body whose decoded size would exceed it is
    refused with ``limit-exceeded`` before it is decoded.
    """
    encoding = part.encoding
    size = part.end - part.body_start
    if encoding == "7bit" and (max_bytes is None or size <= max_bytes):
        return part.buf[part.body_start : part.end]  # the usual body: nothing to undo
    if max_bytes is not None:
        bound = size * 3 // 4 if encoding == "base64" else size
        if bound > max_bytes:
            raise _limit(f"a report part larger than {max_bytes} bytes")
    raw = part.raw_body()
    if encoding == "base64":
        return decode_base64(raw, problems)
    if encoding == "quoted-printable":
        return binascii.a2b_qp(raw)
    if encoding not in _ENCODINGS and not encoding.startswith("x-"):
        problems.add(
            "unknown-transfer-encoding",
            f"Unknown Content-Transfer-Encoding {encoding[:40]!r}; body read as is.",
            field="Content-Transfer-Encoding",
        )
    return raw


def decode_base64(raw: bytes, problems: Problems) -> bytes:
    """Lenient RFC 2045 §6.8 base64: line breaks ignored, junk dropped, padding repaired."""
    body, _, _tail = raw.partition(b"=")
    clean = body.translate(None, _BASE64_JUNK)
    junk = len(body) - len(clean) - body.count(b"\n") - body.count(b"\r") - body.count(b" ")
    if junk > 0:
        problems.add(
            "malformed-base64",
            f"{junk} characters outside the base64 alphabet were ignored.",
            field="Content-Transfer-Encoding",
        )
    rest = len(clean) % 4
    if rest == 1:
        problems.add(
            "malformed-base64",
            "The base64 body ends with a stray character; it was dropped.",
            field="Content-Transfer-Encoding",
        )
        clean = clean[:-1]
    elif rest:
        clean += b"=" * (4 - rest)
    return binascii.a2b_base64(clean)


# ---------------------------------------------------------------------------
# Parts


def make_part(
    buf: bytes,
    start: int,
    end: int,
    *,
    depth: int,
    problems: Problems,
    limits: Limits,
    default: str = "text/plain",
) -> Part:
    """The entity at ``buf[start:end]``: its header block read, its Content-Type parsed."""
    if depth > limits.max_depth:
        _check_depth(depth, limits)
    # A message's header block (Date, From, ...) is hardly ever the short
    # block of a body part that _entity reads with one match: read as any.
    return _read_entity((buf, depth, problems, limits, default, 0), start, end)


# What the parts read by one _entity call site share: buf, depth,
# problems, limits, the type of a part without Content-Type, and the
# _window of the limits (0: no one-match reading of the header block).
_Site = tuple[bytes, int, Problems, Limits, str, int]


def _window(limits: Limits) -> int:
    """How many bytes a header block may take and need no check against *limits*.

    A block that ends within ``3 * max_header_fields`` bytes is too short
    to hold more fields than allowed and, with the usual limits, a longer
    field than allowed or to pass ``max_header_bytes``; 0 when the limits
    are so tight that even a block that short must be checked.
    """
    short = 3 * limits.max_header_fields
    return 0 if short > limits.max_line_bytes or short > limits.max_header_bytes else short


# The usual body part's header block: one Content-Type field on one line
# (its value the group), after the one-line Content-Description that
# Postfix writes into each part of its bounces, before the one-line
# Content-Transfer-Encoding of S/MIME signatures and 8-bit parts, then
# the empty line (RFC 5322 §2.1), LF or CRLF.  Any case (RFC 3464's
# examples write "content-type:"): ASCII only, as bytes patterns fold
# case, and "content-type" has no non-ASCII case fold in the field
# search either.  No backtracking beyond a line: "[^\n]*" cannot run
# over a line break.
_CONTENT_TYPE_BLOCK = re.compile(
    rb"(?i)(?:Content-Description:[^\n]*\n)?Content-Type:([^\n]*)\n"
    rb"(?:Content-Transfer-Encoding:([^\n]*)\n)?\r?\n"
)


def _entity(site: _Site, start: int, end: int) -> Part:
    """:func:`make_part` without the depth check, all but the position in *site*.

    The body parts of a multipart are read by :func:`_entities`, or one
    at a time through ``functools.partial`` binding the site
    (:func:`iter_children`; sites from :func:`_spans`; positional
    arguments: a call with keywords through ``partial`` costs a dict).
    A missing Content-Type reads as *default* (RFC 2045 §5.2), through
    :func:`parse_content_type` with ``None``.
    """
    buf, depth, problems, _, default, window = site
    # The usual block, a "Content-Type:" line, is read with one match
    # instead of the two searches of _read_head and the look at its first
    # line below (2.6 against 4.6 us per part).  The match ends within the
    # window of _read_head, so that it needs no bound check either.
    stop = start + window
    if (usual := _CONTENT_TYPE_BLOCK.match(buf, start, stop if stop < end else end)) is not None:
        body_start = usual.end()
        try:
            head = buf[start:body_start].decode().rstrip("\r\n")
        except UnicodeDecodeError:
            pass  # legacy 8-bit text: _read_head reads it
        else:
            # The value, decoded as the block was (the same UTF-8 text:
            # a line break never splits a UTF-8 sequence).
            line = usual[1].decode().strip(" \t\r")
            if (known := _CONTENT_TYPES.get((line, default))) is None:
                known = parse_content_type(line, problems, default=default)
            # The block's one Content-Transfer-Encoding field, if any, is
            # its last line: Part.encoding need not search for it (three
            # times a report, 0.5 us each; 3 us for an 8bit part).
            transfer = "7bit" if usual.lastindex == 1 else _MECHANISMS.get(usual[2])
            return _new(
                Part,
                (buf, body_start, end, head, known[0], known[1], depth, known[2], transfer),
            )
    return _read_entity(site, start, end)


def _read_entity(site: _Site, start: int, end: int) -> Part:
    """:func:`_entity` for any header block: read by :func:`_read_head`, then searched."""
    buf, depth, problems, limits, default, _ = site
    head, body_start = _read_head(buf, start, end, limits)
    # The first Content-Type field, unfolded (_unfold, written out for the
    # usual one-line value).  Most body parts' blocks begin with it: its
    # value is then the rest of the first line unless the next line is a
    # fold (a head never ends with its line break, so head[nl + 1] exists).
    # str methods there take half the time of the search, which also
    # copies the block (0.7 against 1.5 us for "Content-Type: text/plain").
    value = None
    if head.startswith("Content-Type:"):
        if "\n" not in head:
            value = head[13:].strip(" \t\r")
        elif head[(nl := head.find("\n")) + 1] not in " \t":
            value = head[13:nl].strip(" \t\r")
    if value is None and head and (found := _CONTENT_TYPE.search("\n" + head)) is not None:
        value = found.group(2)
        value = _unfold(value) if "\n" in value else value.strip(" \t\r")
    if (known := _CONTENT_TYPES.get((value, default))) is None:
        known = parse_content_type(value, problems, default=default)
    return _new(Part, (buf, body_start, end, head, known[0], known[1], depth, known[2], None))


# The first Content-Type field and its folds; see field_pattern.
_CONTENT_TYPE = field_pattern("content-type")
_TRANSFER_ENCODING = field_pattern("content-transfer-encoding")


def read_message(
    buf: bytes, problems: Problems, limits: Limits, *, content_type: str | None = None
) -> Part:
    """The top-level entity of *buf*, tolerating what precedes real headers.

    Skipped: a UTF-8 byte order mark (Direct Project .NET agent; a defect),
    an mbox ``From`` line, blank lines before the first header (a defect).
    With *content_type* (AS2 over HTTP) the whole of *buf* is the body.
    A body with no headers whose first line is a delimiter line is read
    as a multipart with that boundary, with a defect.
    """
    # The usual message: LF line ends, and a header field on the first line
    # (so no byte order mark, "From " line, blank line or delimiter line).
    # make_part written out, and the first line looked at by
    # _read_head alone (a first line that is no field reads as no header
    # block, which sends the message to _read_unusual): 0.7 us less per
    # message than a match of a first-field pattern before a make_part
    # call with keywords (read_message over the corpus: 600 against 632 us).
    if (
        content_type is None
        and limits.max_depth >= 0
        and not buf.startswith(_NOT_FIRST)
        and buf.find(b"\n", 0, 65536) != -1
    ):
        root = _read_entity((buf, 0, problems, limits, "text/plain", 0), 0, len(buf))
        if root.head:
            return _typed(root, problems)
    return _read_unusual(buf, problems, limits, content_type)


def _read_unusual(buf: bytes, problems: Problems, limits: Limits, content_type: str | None) -> Part:
    """:func:`read_message` for all but the usual message, each case looked at in turn."""
    if buf.find(b"\n", 0, 65536) == -1 and buf.find(b"\r", 0, 65536) != -1:
        # Bare CR line ends (classic Mac OS); one C-level pass makes them LF.
        buf = buf.replace(b"\r", b"\n")
    end = len(buf)
    if content_type is not None:
        media, params, _ = parse_content_type(content_type, problems)
        head = "Content-Type: " + content_type.replace("\r", "").replace("\n", "")
        return Part(
            buf=buf,
            body_start=0,
            end=end,
            head=head,
            content_type=media,
            params=params,
            depth=0,
        )
    pos = 0
    if buf.startswith(_BOM):
        problems.add("byte-order-mark", "The message starts with a UTF-8 byte order mark.")
        pos = len(_BOM)
    if buf.startswith(b"From ", pos):
        nl = buf.find(b"\n", pos)
        pos = end if nl == -1 else nl + 1
    found = _NOT_BLANK.search(buf, pos)  # in C: a bomb of blank lines costs no Python loop
    blank = end if found is None else found.start()
    if buf.startswith(b"--", blank):
        nl = buf.find(b"\n", blank, blank + 1024)
        line = buf[blank + 2 : nl if nl != -1 else min(end, blank + 1024)].rstrip()
        # RFC 2046 §5.1.1: a boundary is 1 to 70 characters; allow slack.
        if 0 < len(line) <= 200:
            boundary = line.decode("utf-8", "replace")
            problems.add(
                "missing-headers",
                "The message has no header block and starts with a boundary line; "
                "read as a multipart with that boundary.",
            )
            return Part(
                buf=buf,
                body_start=blank,
                end=end,
                head="",
                content_type="multipart/mixed",
                params={"boundary": boundary},
                depth=0,
                explicit_type=False,
            )
    if blank > pos and blank < end and buf.find(b"\n", pos, blank) != -1:
        problems.add("leading-blank-lines", "Blank lines precede the first header field.")
        pos = buf.rfind(b"\n", pos, blank) + 1
    return _typed(make_part(buf, pos, end, depth=0, problems=problems, limits=limits), problems)


def _typed(root: Part, problems: Problems) -> Part:
    """The top-level entity *root*, or, without a usable Content-Type, what its body says it is."""
    return root if root.explicit_type else _multipart_by_body(root, problems) or root


def _multipart_by_body(root: Part, problems: Problems) -> Part | None:
    """*root*, which has no usable Content-Type, read as a multipart if its body says so.

    So when the body's first non-blank line is a delimiter line whose
    boundary recurs on a later line.  RFC 3464 Appendix E "Simple DSN":
    the RFC editor re-flowed the header block into a paragraph, so its
    Content-Type sits mid-line, but the body is plainly a multipart.
    Looked at only when Content-Type is absent or unusable: ordinary
    text/plain mail never pays for it.
    """
    buf, end = root.buf, root.end
    found = _NOT_BLANK.search(buf, root.body_start, end)
    blank = end if found is None else found.start()
    if not buf.startswith(b"--", blank):
        return None
    nl = buf.find(b"\n", blank, blank + 1024)
    if nl == -1:
        return None
    line = buf[blank + 2 : nl].rstrip()
    # RFC 2046 §5.1.1: a boundary is 1 to 70 characters; allow slack.
    if not 0 < len(line) <= 200 or buf.find(b"\n--" + line, nl, end) == -1:
        return None
    problems.add(
        "boundary-without-content-type",
        "The message has no usable Content-Type, but its body starts with a delimiter "
        "line that recurs; read as a multipart with that boundary.",
        field="Content-Type",
    )
    return root._replace(
        body_start=blank,
        content_type="multipart/mixed",
        params={"boundary": line.decode("utf-8", "replace")},
    )


def _strict_spans(
    buf: bytes, boundary: bytes, start: int, end: int, limits: Limits
) -> tuple[list[int], list[int], bool]:
    """``(starts, ends, closed)`` of the body parts of the multipart body at *start*.

    RFC 2046 §5.1.1::

        dash-boundary   := "--" boundary
        delimiter       := CRLF dash-boundary
        close-delimiter := delimiter "--"
        ; each followed by transport-padding (LWSP) and CRLF

    A part runs from the end of one delimiter line to the line break
    before the next (that line break belongs to the delimiter); *closed*
    says whether a close-delimiter was found.  ``bytes.find`` for the
    fixed ``LF "--" boundary`` marker scans in C (a pattern compiled per
    boundary costs more than it saves on small reports); only lines that
    begin with the marker are looked at here, in one loop (one is run for
    every multipart visited).  Each delimiter line adds where the part
    before it ends and where the next one starts; the preamble is the
    first of those parts, dropped.  More than ``max_parts`` parts
    are refused.  Lines that begin with the marker but are not
    delimiters (an inner boundary that extends the outer one) count
    against ``max_parts`` too, so a body of such lines cannot cost
    unbounded work.
    """
    marker, width, find, tail_at = b"\n--" + boundary, len(boundary) + 3, buf.find, _TAIL_AT
    # More than *most* parts are more than max_parts (never fewer than 1).
    most = limits.max_parts if limits.max_parts > 0 else 1
    # Part k runs from starts[k] to ends[k + 1]: the first delimiter line
    # ends the preamble, whose end, ends[0], is dropped.  *body* is where
    # the current part starts.  The first search starts at the LF before
    # the body, if it has one.
    starts: list[int] = []
    ends: list[int] = []
    misses, body, pos = 0, start, (start - 1 if start else 0) - width
    # The usual body follows the LF that ends the blank line, so the first
    # search finds a dash-boundary that begins it.  Without that LF (a
    # body that begins the buffer), a dash-boundary is looked for here.
    if (not start or buf[start - 1] != 0x0A) and buf.startswith(marker[1:], start):
        pos = start - 1
        if (tail := tail_at(buf, start + width - 1, end)) is None:
            misses = _miss(misses, limits.max_parts)
        elif tail.lastindex:
            return [], [], True  # a close-delimiter first: no parts
        else:
            ends.append(start)
            starts.append(body := tail.end())
    while (pos := find(marker, pos + width, end)) != -1:
        # The usual delimiter line ends right after the boundary, LF or
        # CRLF: two byte compares instead of a match of _DELIMITER_TAIL
        # (which reads the rest: padding, a close-delimiter, the end).
        if (after := pos + width) < end and buf[after] == 0x0A:
            after += 1
        elif after + 1 < end and buf[after] == 0x0D and buf[after + 1] == 0x0A:
            after += 2
        elif (tail := tail_at(buf, after, end)) is None:
            misses = _miss(misses, limits.max_parts)
            continue
        elif tail.lastindex:
            # The "--" of a close-delimiter: the last part ends here; the
            # epilogue after it is dropped.
            ends.append(pos - (buf[pos - 1] == 0x0D) if pos > body else body)
            return starts, ends[1:], True
        else:
            after = tail.end()
        # The CRLF (or LF) before the delimiter line is the delimiter's, so
        # the part ends one byte earlier after a CR; an empty part ends
        # where it starts (the LF ending one delimiter line starts the next).
        # Two appends rather than one list of edges sliced two by two at
        # the end (8.7 against 9.7 us per report for the whole scan).
        ends.append(pos - (buf[pos - 1] == 0x0D) if pos > body else body)
        starts.append(body := after)
        if len(starts) > most:
            raise _too_many_parts(limits)
    # No close-delimiter: the last part runs to the end (its final CR
    # dropped, as before a delimiter).
    ends.append(end - 1 if end > body and buf[end - 1] == 0x0D else end)
    return starts, ends[1:], False


def _miss(misses: int, max_parts: int) -> int:
    """One more line that begins like a delimiter but is not one, against ``max_parts``."""
    if misses >= max_parts:
        raise _limit(f"more than {max_parts} lines that look like delimiters")
    return misses + 1


def _indented(boundary: bytes) -> re.Pattern[bytes]:
    """A delimiter line with optional white space before it (lenient path only).

    It begins a line: MULTILINE "^" is the start of the input or the
    position after an LF, looked at in one step at each offset (a
    look-behind there took 49 against 14 us on RFC 3464's 1.4 KB example).
    """
    return re.compile(rb"(?m)^[ \t]*--" + re.escape(boundary) + rb"(--)?[ \t]*\r?(?:\n|\Z)")


def _indented_spans(
    buf: bytes, boundary: bytes, start: int, end: int, limits: Limits
) -> tuple[list[int], list[int], bool]:
    """:func:`_strict_spans`, also accepting white space before ``--`` boundary.

    The lenient second reading, run only when the strict one finds too
    little: a regex per boundary is affordable here.
    """
    lines: list[tuple[int, int, bool]] = []
    for match in _indented(boundary).finditer(buf, start, end):
        closing = match.group(1) is not None
        lines.append((match.start(), match.end(), closing))
        if closing or len(lines) > limits.max_parts:
            break
    if not lines:
        return [], [], False
    closed = lines[-1][2]
    if not closed:
        lines.append((end + 1, end, True))  # the last part runs to the end
    starts: list[int] = []
    ends: list[int] = []
    for (_, body, _), (line, _, _) in itertools.pairwise(lines):
        # The line break before a delimiter belongs to the delimiter (§5.1.1).
        cut = line - 1
        if cut > body and buf[cut - 1] == 0x0D:
            cut -= 1
        starts.append(body)
        ends.append(max(cut, body))
    return starts, ends, closed


def children(part: Part, problems: Problems, limits: Limits, budget: Budget) -> list[Part]:
    """The body parts of multipart *part*, in order (preamble and epilogue dropped).

    A lenient second reading, only when the strict one (RFC 2046 §5.1.1)
    finds fewer than two parts, or no report part in a multipart/report:
    delimiter lines preceded by white space are accepted, with an
    ``indented-boundary`` defect.  RFC 3464 Appendix E "Multi-Recipient
    DSN" indents one (`` --JAA13167...``), so a strict reader merges the
    human text and the report.  The reading that finds more parts wins;
    only its problems are recorded.
    """
    # The strict reading records into *problems* directly; should the
    # lenient one win, what it recorded is taken back (the usual part pays
    # for no second collector).
    recorded, dropped = len(problems._errors), problems.dropped
    site, starts, ends = _spans(part, problems, limits, budget, _strict_spans)
    kids = _entities(site, starts, ends)
    # Two parts or more, and in a multipart/report a report part (the
    # usual one is the second, looked at first): the strict reading stands.
    if len(kids) >= 2 and (
        part.content_type != "multipart/report"
        or kids[1].content_type in _REPORT_PARTS
        or not _REPORT_PARTS.isdisjoint(map(_MEDIA, kids))
    ):
        return kids
    if not _may_be_indented(part, limits):
        return kids
    # The strict reading counted its parts: the lenient one counts its own instead.
    after = budget.parts
    budget.parts = after - len(kids)
    lenient = Problems()
    site, starts, ends = _spans(part, lenient, limits, budget, _indented_spans)
    indented = _entities(site, starts, ends)
    if len(indented) <= len(kids):
        budget.parts = after
        return kids
    del problems._errors[recorded:]
    problems.dropped = dropped
    problems.add(
        "indented-boundary",
        f"A delimiter line of the {part.content_type} is indented (RFC 2046 §5.1.1 "
        "does not allow it); read as a delimiter",
    )
    _merge(problems, lenient)
    return indented


def _entities(site: _Site, starts: list[int], ends: list[int]) -> list[Part]:
    """The parts at ``starts[k]:ends[k]``, read by :func:`_entity` in order.

    Calls written out for the usual two or three parts: in CPython 3.11 a
    call from Python code to a Python function is cheaper than one from
    C (``map``, ``functools.partial``), and a loop costs more per part
    than the call saved (three parts: 9.5 us, against 10.8 us in a loop
    and 11.3 us through ``map`` and ``partial``).
    """
    count = len(starts)
    if count == 3:
        return [
            _entity(site, starts[0], ends[0]),
            _entity(site, starts[1], ends[1]),
            _entity(site, starts[2], ends[2]),
        ]
    if count == 2:
        return [_entity(site, starts[0], ends[0]), _entity(site, starts[1], ends[1])]
    return [_entity(site, start, end) for start, end in zip(starts, ends)]  # noqa: B905 (strict= costs a keyword call)


_MAX_INDENT = 80


def _may_be_indented(part: Part, limits: Limits) -> bool:
    """Whether a line of *part*'s body is white space, then ``--`` boundary.

    ``bytes.find`` rather than a regex: a pattern compiled per boundary
    would cost a compilation for every single-part multipart level of a
    deeply nested message.
    """
    boundary = part.params.get("boundary", "").rstrip(" ").encode("utf-8", "surrogateescape")
    if not boundary:
        return False
    buf, start, end = part.buf, part.body_start, part.end
    marker = b"--" + boundary
    pos = buf.find(marker, start, end)
    for _ in range(limits.max_parts):
        if pos == -1:
            return False
        # At most _MAX_INDENT bytes back: each look costs a bounded amount.
        low = max(start, pos - _MAX_INDENT)
        newline = buf.rfind(b"\n", low, pos)
        line = newline + 1 if newline != -1 else (start if low == start else -1)
        if 0 <= line < pos and not buf[line:pos].strip(b" \t"):
            return True
        pos = buf.find(marker, pos + 1, end)
    return False


def _merge(problems: Problems, found: Problems) -> None:
    for error in found._errors:
        problems.add_error(error)
    problems.dropped += found.dropped


# The report part types (RFC 8098 §3.1, RFC 3464 §2.1, RFC 6533 §5-§6).
_REPORT_PARTS = frozenset(
    (
        "message/disposition-notification",
        "message/global-disposition-notification",
        "message/delivery-status",
        "message/global-delivery-status",
    )
)


def iter_children(
    part: Part, problems: Problems, limits: Limits, budget: Budget, *, indented: bool = False
) -> Iterator[Part]:
    """The body parts of multipart *part*, each header block read only when reached.

    Tolerated, each noted where it matters: a boundary that begins with
    ``-`` (Java mail), transport padding after a delimiter, a missing
    close-delimiter (the last part runs to the end; a defect), a missing
    final line break.

    The delimiter lines are found at the call; a part's header block is
    read when the iteration reaches it.  Not a generator: a caller that
    stops early (the first text/plain of an alternative) would pay for
    closing one (about 3 us per report).
    """
    reader = _indented_spans if indented else _strict_spans
    site, starts, ends = _spans(part, problems, limits, budget, reader)
    return map(partial(_entity, site), starts, ends)


# _strict_spans or _indented_spans: (buf, boundary, start, end, limits) -> (starts, ends, closed).
_SpanReader = Callable[[bytes, bytes, int, int, Limits], tuple[list[int], list[int], bool]]


def _spans(
    part: Part, problems: Problems, limits: Limits, budget: Budget, reader: _SpanReader
) -> tuple[_Site, list[int], list[int]]:
    """Where the body parts of multipart *part* are, counted, and the site to read them.

    Each part is read by ``_entity(site, start, end)``: all at once
    (:func:`_entities`), or bound with ``functools.partial`` when the
    caller reaches it (:func:`iter_children`).  RFC 2046 §5.1.5:
    in a multipart/digest, a part without Content-Type is a message/rfc822.
    """
    # One unpacking instead of a property call per field.
    buf, body_start, end, _, media, params, depth, _, _ = part
    if depth >= limits.max_depth:
        _check_depth(depth + 1, limits)
    default = "message/rfc822" if media == "multipart/digest" else "text/plain"
    site = (buf, depth + 1, problems, limits, default, _window(limits))
    boundary = params.get("boundary", "").rstrip(" ").encode("utf-8", "surrogateescape")
    if not boundary:
        problems.add("missing-boundary", f"A {media} part has no boundary parameter.")
        return site, [], []
    starts, ends, closed = reader(buf, boundary, body_start, end, limits)
    # Budget.count, written out: one method call fewer per multipart.
    budget.parts += len(starts)
    if budget.parts > budget.limits.max_parts:
        raise _too_many_parts(budget.limits)
    if not closed:
        _not_closed(part, problems, found=bool(starts))
    return site, starts, ends


def _not_closed(part: Part, problems: Problems, *, found: bool) -> None:
    """The defect for a multipart with no close-delimiter (or no delimiter line at all)."""
    if not found:
        boundary = part.params.get("boundary", "").rstrip(" ")
        problems.add(
            "missing-boundary", f"No delimiter line for boundary {boundary[:70]!r} was found."
        )
        return
    problems.add(
        "missing-close-delimiter",
        f"The {part.content_type} part ends without its close-delimiter line.",
    )


def open_message(part: Part, problems: Problems, limits: Limits) -> Part:
    """The message inside a message/rfc822 or message/global *part* (header block read)."""
    buf, start, end = part.buf, part.body_start, part.end
    if part.encoding in _ENCODED:
        # RFC 2046 §5.2.1 forbids encoding message/rfc822; some gateways do anyway.
        buf = decode_body(part, problems)
        start, end = 0, len(buf)
    return make_part(buf, start, end, depth=part.depth + 1, problems=problems, limits=limits)


def headers_only(part: Part, problems: Problems, limits: Limits) -> tuple[tuple[str, str], ...]:
    """The header fields carried by a returned-original part, never its body.

    For message/* the nested message's header block; for text/rfc822-headers
    (RFC 6522 §4) the body itself, quoted-printable allowed.
    """
    buf, start, end = part.buf, part.body_start, part.end
    if part.encoding in _ENCODED:
        # Decode no more than a header block can hold.
        window = Part(
            buf=buf,
            body_start=start,
            end=min(end, start + 2 * limits.max_header_bytes + 4),
            head=part.head,
            content_type=part.content_type,
            params=part.params,
            depth=part.depth,
        )
        buf = decode_body(window, problems)
        start, end = 0, len(buf)
    if part.depth >= limits.max_depth:
        _check_depth(part.depth + 1, limits)
    return split_pairs(_read_head(buf, start, end, limits)[0], problems, limits)


def split_pairs(head: str, problems: Problems, limits: Limits) -> tuple[tuple[str, str], ...]:
    """``(name, value)`` for every field of *head*: :func:`split_fields` without line numbers.

    The returned original often has dozens of long ``Received`` fields:
    one ``findall``, then one list comprehension (for the few dozen rows
    of a header block, cheaper than a chain of ``map`` objects), each
    value unfolded (_unfold, written out for the usual one-line value).
    """
    rows = _FIELD.findall(head)
    pairs = [(n, v.strip(" \t\r") if "\n" not in v else _unfold(v)) for n, v, _ in rows if n]
    if len(pairs) != len(rows):  # a line that is not a field: the careful reader
        return tuple((f.name, f.value) for f in split_fields(head, problems, limits))
    if len(rows) > limits.max_header_fields:
        raise _limit(f"more than {limits.max_header_fields} header fields in one block")
    return tuple(pairs)
