"""Reading reports: find the report part in a message and build an MDN or a DSN.

:func:`parse` is the entry point.  It reads the MIME structure with the
fast reader of :mod:`mdnkit._mime`, finds the report part wherever a real
sender put it (RFC 6522 §1 lets ``multipart/report`` nest: inside
``multipart/signed`` for AS2, ``multipart/mixed`` for forwarded or
resent reports), hands its text to the MDN or DSN field reader, and adds
what every report has: the report message's own Message-ID, Date, From
and Subject, the human-readable first part, the returned original's
headers, and the evidence tying the report to a sent message
(:class:`~mdnkit.MessageRef`).

Receipts are evidence, not proof (RFC 8098 §6): every value is what the
report *says*; :attr:`~mdnkit.MessageRef.by` says how strong the link to
the sent message is.
"""

from __future__ import annotations

import binascii
import copy
import re
from collections.abc import Iterable
from typing import NamedTuple

from . import _ids, _mime
from ._address import addr_spec
from ._defects import Problems
from ._dsn import dsn_values
from ._grammar import _PLAIN_MSG_ID, Field, parse_disposition, parse_msg_id, read_date
from ._mdn import mdn_values
from .errors import ParseError, RequestError
from .limits import DEFAULT_LIMITS, Limits
from .model import (
    DSN,
    MDN,
    REPORT_VALUES,
    Headers,
    MessageRef,
    RefSource,
    _dsn,
    _mdn,
    _ReportValues,
)
from .model import _message_ref as _ref

__all__ = ["parse", "parse_all", "parse_disposition"]

# Media types that may hold a report: a multipart, or a message/* to open.
_CONTAINERS = ("multipart/", "message/")
_MESSAGE_TYPES = _mime.MESSAGE_TYPES
# tuple.__new__ builds a named tuple in C (the class call runs Python code).
_new = tuple.__new__
# Report media types (RFC 8098 §3.1, RFC 3464 §2.1, RFC 6533 §5-§6) ->
# (kind, UTF-8 form).  RFC 6533 §4.4: a global form under report-type
# delivery-status (or disposition-notification) is the same report.
_REPORT_TYPES = {
    "message/disposition-notification": ("mdn", False),
    "message/global-disposition-notification": ("mdn", True),
    "message/delivery-status": ("dsn", False),
    "message/global-delivery-status": ("dsn", True),
}
# RFC 6522 §3 third part, RFC 6533 §6.3-§6.4 global forms.
_ORIGINAL_TYPES = frozenset(
    ("message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers")
)
# Not a registered type, but MailSite and others send it for the third part.
_BOGUS_ORIGINAL = "message/rfc822-headers"
# The top-level types whose first report _find reads without the walk.
_FIRST_ROOTS = frozenset(("multipart/report", "multipart/signed"))
# (report part type, report-type parameter as written) of the usual report,
# whose report-type names the part exactly (RFC 6522 §3; RFC 6533 §4.4: a
# global part under the report-type of its plain form) -> _REPORT_TYPES.
_USUAL_REPORTS = {
    (media, report_type): kind
    for media, kind in _REPORT_TYPES.items()
    for report_type in (media[8:], media[8:].removeprefix("global-"))
}
_ALTERNATIVES = frozenset(("multipart/alternative", "multipart/related", "multipart/mixed"))
_ANGLE_ID = re.compile(r"<[^<>]*>")
# Where the returned original's headers sit in the tuple of _report_values.
_ORIGINAL_HEADERS = REPORT_VALUES.index("original_headers")
# The report message's own fields that a report carries (RFC 5322 §3.6),
# found in one scan of its header block.
_REPORT_HEADERS = _mime.field_pattern(
    "message-id", "date", "from", "subject", "in-reply-to", "references"
)
# A header line that is a Content-* field (RFC 2045 §9 names them), any case.
_CONTENT_FIELD = re.compile(r"[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[!-9;-~]*[ \t]*:")
# A well-formed msg-id (RFC 5322 §3.6.4) needs none of parse_msg_id's repairs;
# one with non-ASCII text too (_PLAIN_MSG_ID, tried first, takes printable
# ASCII only).
_PLAIN_ID = re.compile(r"\s*<([^<>()\s\"@]+@[^<>()\s\"@]+)>\s*\Z")
# The sources of a MessageRef, read once: a member read from its enum
# class goes through the class's metaclass (timeit: 0.20 us against
# 0.01 us for a module global).
_BY_ORIGINAL_MESSAGE_ID = RefSource.ORIGINAL_MESSAGE_ID
_BY_ATTACHED_ORIGINAL = RefSource.ATTACHED_ORIGINAL
_BY_IN_REPLY_TO = RefSource.IN_REPLY_TO
_BY_REFERENCES = RefSource.REFERENCES
_BY_ENVELOPE_ID = RefSource.ENVELOPE_ID


class _Found(NamedTuple):
    """A report part, the multipart holding it, and the message it belongs to.

    A named tuple: one is made per report, built in C.
    """

    part: _mime.Part
    kind: str
    utf8: bool
    message: _mime.Part  # the nearest enclosing message (its headers describe the report)
    container: _mime.Part | None  # the multipart holding the report part
    siblings: tuple[_mime.Part, ...]
    position: int  # of the report part among siblings


def parse(
    data: object,
    *,
    strict: bool = False,
    content_type: str | None = None,
    limits: Limits | None = None,
) -> MDN | DSN | None:
    """The first report in *data*, or None when *data* is not a report.

    *data* is ``bytes`` (or ``bytearray``, ``memoryview``), ``str`` or an
    ``email.message.Message``.  "First" is the report part at the
    shallowest nesting, first in document order: a DSN returned inside
    a DSN (a bounce of a bounce) never wins over the outer one.

    *content_type* is the Content-Type of a body whose headers travelled
    apart (an AS2 MDN over HTTP).  Lenient by default: problems become
    ``report.defects``; ``strict=True`` raises them as
    :class:`~mdnkit.ParseError` (an ``ExceptionGroup`` when several).
    Going over a bound of *limits* always raises ``ParseError`` with code
    ``limit-exceeded``.
    """
    reports = _parse(data, strict, content_type, limits, True)  # positional: no keyword parsing
    return reports[0] if reports else None


def parse_all(
    data: object,
    *,
    strict: bool = False,
    content_type: str | None = None,
    limits: Limits | None = None,
) -> tuple[MDN | DSN, ...]:
    """Every report in *data*, in the order :func:`parse` ranks them.

    Some clients send several read receipts in one message (a
    ``multipart/parallel`` of ``multipart/report`` parts).  Reports inside
    a returned original are not counted.  More than ``limits.max_reports``
    reports is a ``limit-exceeded`` ParseError.
    """
    return _parse(data, strict, content_type, limits, False)


def _parse(
    data: object,
    strict: bool,
    content_type: str | None,
    limits: Limits | None,
    first: bool,
) -> tuple[MDN | DSN, ...]:
    if limits is None:
        limits = DEFAULT_LIMITS
    elif not isinstance(limits, Limits):
        raise RequestError(f"limits must be a mdnkit.Limits, not {type(limits).__name__}")
    if content_type is not None and not isinstance(content_type, str):
        raise RequestError(f"content_type must be a str, not {type(content_type).__name__}")
    buf = _mime.to_bytes(data, limits)
    problems = Problems()
    root = _mime.read_message(buf, problems, limits, content_type=content_type)
    if not (root.content_type.startswith(_CONTAINERS) or root.content_type in _REPORT_TYPES):
        # Not a report: decided from the top-level header block alone.
        return ()
    budget = _mime.Budget(limits)
    found = _find(root, problems, limits, budget, first)
    reports: list[MDN | DSN] = []
    for item in found:
        own = copy.deepcopy(problems) if len(found) > 1 else problems
        report = _build(item, own, limits, budget)
        if strict:
            own.raise_if_any()
        reports.append(report)
    return tuple(reports)


# ---------------------------------------------------------------------------
# Finding report parts


def _find(
    root: _mime.Part, problems: Problems, limits: Limits, budget: _mime.Budget, first: bool
) -> list[_Found]:
    """Report parts, shallowest first, then in document order.

    A breadth-first walk with an explicit queue: no recursion, so nesting
    depth costs nothing but ``max_depth``.  A multipart that holds a
    report part is not searched further: its other parts are the human
    text and the returned original, and a report inside a returned
    original is someone else's.  Message parts are opened only when the
    walk reaches them (a forwarded report).  The first report of the
    usual message, where the walk would find it first, is read without
    the walk.
    """
    media = root.content_type
    if media in _REPORT_TYPES:
        return [_bare_report(root)]
    if not first or media not in _FIRST_ROOTS:
        return _walk([(root, root)], problems, limits, budget, first)
    # The first report of the usual message, a multipart/report at the top
    # or the first part of a top-level multipart/signed (RFC 1847 §2.1; AS2
    # signs its MDNs so), is the first the walk would find: read here, with
    # no queue (AS2 MDNs: 43 against 49 us for _find).
    kids = _mime.children(root, problems, limits, budget)
    part, queue = root, []
    if (
        media == "multipart/signed"
        and len(kids) == 2
        and kids[0].content_type == "multipart/report"
        and kids[1].content_type not in _REPORT_TYPES
    ):
        # No report among the signed parts: the walk would queue the
        # multipart/report, then the signature if that were a container.
        part = kids[0]
        if kids[1].content_type.startswith(_CONTAINERS):
            queue.append((kids[1], root))
        kids = _mime.children(part, problems, limits, budget)
    # The usual report part, the second, named as report-type says, after
    # a first part that is none: _report_children would find it and record
    # nothing (with _found: 3.6 us, against 1.5 here).
    if (
        part.content_type == "multipart/report"
        and len(kids) >= 2
        and (kind := _USUAL_REPORTS.get((kids[1].content_type, part.params.get("report-type", ""))))
        and kids[0].content_type not in _REPORT_TYPES
    ):
        return [_new(_Found, (kids[1], kind[0], kind[1], root, part, tuple(kids), 1))]
    reports = _report_children(part, kids, problems)
    if reports:
        return _found(reports[:1], root, part, kids)
    # None there: the walk goes on with the containers queued so far.
    queue += [(kid, root) for kid in kids if kid.content_type.startswith(_CONTAINERS)]
    return _walk(queue, problems, limits, budget, first)


def _found(
    reports: list[tuple[int, _mime.Part]],
    message: _mime.Part,
    container: _mime.Part,
    kids: list[_mime.Part],
) -> list[_Found]:
    """The report parts *reports* (index, part) among *kids*, the parts of *container*."""
    siblings = tuple(kids)
    found = []
    for index, kid in reports:
        kind, utf8 = _REPORT_TYPES[kid.content_type]
        # _Found(part=kid, kind=..., ...), built in C.
        found.append(_new(_Found, (kid, kind, utf8, message, container, siblings, index)))
    return found


def _bare_report(part: _mime.Part) -> _Found:
    """A report part that is a whole message by itself, with no multipart around it."""
    kind, utf8 = _REPORT_TYPES[part.content_type]
    return _Found(
        part=part, kind=kind, utf8=utf8, message=part, container=None, siblings=(), position=0
    )


def _report_children(
    part: _mime.Part, kids: list[_mime.Part], problems: Problems
) -> list[tuple[int, _mime.Part]]:
    """The report parts among *kids*, with defects for a container that misnames them."""
    # A loop, not a list comprehension: for the usual three parts it makes
    # no function object (0.7 against 1.0 us).
    reports = []
    for i, kid in enumerate(kids):
        if kid.content_type in _REPORT_TYPES:
            reports.append((i, kid))
    if part.content_type != "multipart/report":
        if reports:
            problems.add(
                "not-multipart-report",
                f"The report part is inside {part.content_type}, not multipart/report "
                "(RFC 6522 §3).",
                field="Content-Type",
            )
        return reports
    report_type = part.params.get("report-type", "").strip().lower()
    if not reports:
        # The second part without a Content-Type header defaults to
        # text/plain (RFC 2045 §5.2); report-type still says what it is.
        wanted = f"message/{report_type}"
        if len(kids) >= 2 and not kids[1].explicit_type and wanted in _REPORT_TYPES:
            problems.add(
                "missing-content-type",
                f"The second part of the multipart/report has no Content-Type; "
                f"read as {wanted} from report-type.",
                field="Content-Type",
            )
            return [(1, kids[1]._replace(content_type=wanted))]
        return []
    subtype = reports[0][1].content_type[8:]  # after "message/", as every report type
    if not report_type:
        problems.add(
            "missing-report-type",
            "The multipart/report has no report-type parameter (RFC 6522 §3); "
            f"read as {subtype} from the report part.",
            field="Content-Type",
        )
    elif subtype != report_type and subtype != "global-" + report_type:
        problems.add(
            "wrong-report-type",
            f"report-type is {report_type[:60]!r} but the report part is "
            f"{reports[0][1].content_type}; read by the part's type.",
            field="Content-Type",
        )
    return reports


def _walk(
    queue: list[tuple[_mime.Part, _mime.Part]],
    problems: Problems,
    limits: Limits,
    budget: _mime.Budget,
    first: bool,
) -> list[_Found]:
    """The walk of :func:`_find` over *queue*: ``(part, the message it belongs to)``.

    A list read in order as it grows is the queue: cheaper than a deque
    and its popleft.  Its entries are parts the budget counted, or the
    message inside one: bounded.
    """
    found: list[_Found] = []
    for part, message in queue:
        media = part.content_type
        if media in _MESSAGE_TYPES:
            inner = _mime.open_message(part, problems, limits)
            if inner.content_type in _REPORT_TYPES:
                found.append(_bare_report(inner))
            elif inner.content_type.startswith(_CONTAINERS):
                queue.append((inner, inner))
        elif media.startswith("multipart/"):
            kids = _mime.children(part, problems, limits, budget)
            reports = _report_children(part, kids, problems)
            if reports:
                found += _found(reports, message, part, kids)
            else:
                # A loop rather than a generator: no function object per
                # multipart (_find over the corpus's roots that are not
                # multipart/report: 594 against 614 us).
                for kid in kids:
                    if kid.content_type.startswith(_CONTAINERS):
                        queue.append((kid, message))
        if found and first:
            return found[:1]
        if len(found) > limits.max_reports:
            raise ParseError(
                f"The message has more than {limits.max_reports} reports; refused.",
                code="limit-exceeded",
            )
    return found


# ---------------------------------------------------------------------------
# Building reports


def _build(item: _Found, problems: Problems, limits: Limits, budget: _mime.Budget) -> MDN | DSN:
    text = _report_text(item, problems, limits)
    own = _mime.find_fields(item.message, _REPORT_HEADERS)
    common = _report_values(item, own, problems, limits, budget)
    original = common[_ORIGINAL_HEADERS]
    if item.kind == "mdn":
        # The part's own non-MIME fields: MDN fields written without the
        # blank line before them (Direct Project agents) land there.
        if _content_only(item.part.head):
            values = mdn_values(text, problems, limits)
        else:
            header_fields = _fields(
                f
                for f in item.part.fields(problems, limits)
                if not f.name.lower().startswith("content-")
            )
            values = mdn_values(text, problems, limits, header_fields=header_fields)
        ref = _message_ref(values["original_message_id"], None, original, own, problems)
        return _mdn(values, common, ref, problems.defects())
    values = dsn_values(text, problems, limits, utf8=item.utf8)
    ref = _message_ref(None, values["original_envelope_id"], original, own, problems)
    return _dsn(values, common, ref, problems.defects())


def _report_text(item: _Found, problems: Problems, limits: Limits) -> str:
    """The report part's body as text.

    RFC 3464 §2.1 and RFC 8098 §3.1 ask for 7-bit text; 8-bit bodies are
    read as UTF-8 (the RFC 6533 global forms are UTF-8 by definition) and
    bytes that are not UTF-8 become U+FFFD, with a defect.
    """
    part = item.part
    raw = _mime.plain_body(part)
    if raw is None or len(raw) > limits.max_report_bytes:
        raw = _mime.decode_body(part, problems, max_bytes=limits.max_report_bytes)
        if len(raw) > limits.max_report_bytes:
            raise ParseError(
                f"The report part is larger than {limits.max_report_bytes} bytes; refused.",
                code="limit-exceeded",
            )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(
            "non-utf8-report",
            f"The report part is not valid UTF-8 (first bad byte at offset {exc.start}); "
            "undecodable bytes were replaced.",
            field="Content-Type",
        )
        return raw.decode("utf-8", "replace")


def _report_values(
    item: _Found,
    own: dict[str, str],
    problems: Problems,
    limits: Limits,
    budget: _mime.Budget,
) -> _ReportValues:
    """What every report has: the report message's own headers, first and third parts.

    *own* holds the report message's fields named by ``_REPORT_HEADERS``.
    A tuple in the order of ``model.REPORT_VALUES``, which the report
    constructors take as it is (no dict to build and merge).
    """

    # The message's header block first; a nested multipart/report part
    # sometimes carries its own Message-ID (Delta Chat).
    found = own
    container = item.container
    if (
        container is not None
        and container is not item.message
        and len(own) < 6
        and not _content_only(container.head)
    ):
        found = {**_mime.find_fields(container, _REPORT_HEADERS), **own}
    message_id = found.get("message-id")
    date = found.get("date")
    sender = found.get("from")
    subject = found.get("subject")
    # The usual From (one addr_spec reads) and Subject (no encoded word)
    # are decided here, a call fewer each.
    return (
        _msg_id(message_id, problems, "Message-ID") if message_id else None,
        # parse_date with positional arguments (its default limits), one call fewer.
        read_date(date, "Date", problems, DEFAULT_LIMITS) if date else None,
        (addr_spec(sender) or _sender(sender, problems)) if sender else None,
        subject if subject is None or "=?" not in subject else _decode_subject(subject, problems),
        _human_text(item, problems, limits, budget),
        _original_headers(item, problems, limits),
    )


def _sender(value: str, problems: Problems) -> str | None:
    """The From addr-spec; generators that RFC 2047-encode the whole field are undone."""
    found = addr_spec(value)
    if found is None and "=?" in value:
        found = addr_spec(_decode_subject(value, problems, field="From"))
    return found


# RFC 2047 §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
# (RFC 2231 §5 allows "charset*language").  No white space inside a word.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def _decode_subject(value: str, problems: Problems, *, field: str = "Subject") -> str:
    """RFC 2047 encoded words decoded; charsets read through :func:`_mime.decode_text`.

    One pass over the value: the standard library's ``decode_header`` is
    quadratic in the number of words (ten thousand words in a Subject took
    seconds).  White space between adjacent encoded words is dropped (RFC
    2047 §6.2); adjacent words in one charset are decoded together, since
    senders split multi-byte characters across words.  A word that does not
    decode is kept as written, with a defect.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = bytearray()
    pending_charset = ""
    after_word = False
    broken = False
    pos = 0

    def flush() -> None:
        if pending:
            out.append(_mime.decode_text(bytes(pending), pending_charset, problems, field=field))
            pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        pos = match.end()
        if between.strip(" \t\r\n") or not after_word:
            flush()
            out.append(between)
        raw = _word_bytes(match.group(2), match.group(3))
        if raw is None:
            flush()
            broken = True
            out.append(match.group())
            after_word = False
            continue
        charset = match.group(1).partition("*")[0]
        if pending and charset.lower() != pending_charset.lower():
            flush()
        pending += raw
        pending_charset = charset
        after_word = True
    flush()
    out.append(value[pos:])
    if broken:
        problems.add(
            "malformed-encoded-word", f"The {field} has a broken encoded word.", field=field
        )
    return "".join(out)


def _word_bytes(encoding: str, text: str) -> bytes | None:
    """The bytes of one encoded word's text (RFC 2047 §4), None when it does not decode."""
    if not text.isascii():
        return None
    if encoding in "bB":
        try:
            return binascii.a2b_base64(text + "=" * (-len(text) % 4))
        except binascii.Error:
            return None
    # Q (§4.2): "_" is a space, "=XX" a byte; a2b_qp's header mode does both.
    return binascii.a2b_qp(text.encode("ascii"), header=True)


def _human_text(
    item: _Found, problems: Problems, limits: Limits, budget: _mime.Budget
) -> str | None:
    """The first part of the report, decoded; in a multipart/alternative, its first text/plain."""
    if item.container is None or item.position == 0 or not item.siblings:
        return None
    node: _mime.Part | None = item.siblings[0]
    while node is not None and node.content_type in _ALTERNATIVES:
        # The first text/plain, else the first nested alternative; parts
        # after a text/plain are never read.
        nested = None
        for kid in _mime.iter_children(node, problems, limits, budget):
            if kid.content_type == "text/plain":
                nested = kid
                break
            if nested is None and kid.content_type in _ALTERNATIVES:
                nested = kid
        node = nested
    if node is None:
        return None
    if not node.content_type.startswith("text/"):  # Part.maintype, without the property call
        return None
    if node.end - node.body_start > limits.max_report_bytes:  # Part.body_size, inline
        problems.add(
            "human-text-too-large",
            f"The human-readable part is larger than {limits.max_report_bytes} bytes; not read.",
        )
        return None
    raw = _mime.plain_body(node)
    if raw is None:
        raw = _mime.decode_body(node, problems)
    return _mime.decode_text(raw, node.params.get("charset"), problems, field="Content-Type")


def _original_headers(item: _Found, problems: Problems, limits: Limits) -> Headers | None:
    """Headers of the returned original (RFC 6522 §3 third part), body never read."""
    if item.container is None or item.position + 1 >= len(item.siblings):
        return None
    part = item.siblings[item.position + 1]
    if part.content_type == _BOGUS_ORIGINAL:
        problems.add(
            "bogus-original-type",
            "The returned original is labelled message/rfc822-headers, which does not "
            "exist; read as text/rfc822-headers.",
            field="Content-Type",
        )
    elif part.content_type not in _ORIGINAL_TYPES:
        return None
    # headers_only builds (str, str) pairs from text: nothing for Headers to convert.
    return Headers._from_pairs(_mime.headers_only(part, problems, limits))


def _message_ref(
    original_message_id: object,
    envelope_id: object,
    original: object,
    own: dict[str, str],
    problems: Problems,
) -> MessageRef | None:
    """The evidence tying the report to a sent message, strongest first.

    The id in it is the comparison key of :func:`mdnkit._ids.canonical`
    (the report's own ``original_message_id`` keeps what was written).

    1. the MDN's Original-Message-ID (RFC 8098 §3.2.5);
    2. the Message-ID of the returned original (RFC 6522 §3 third part);
    3. the report's In-Reply-To (RFC 5322 §3.6.4; Outlook sets it and no
       Original-Message-ID);
    4. the last id of the report's References;
    5. a DSN's Original-Envelope-Id (RFC 3464 §2.2.1), with no message id.
    """
    if isinstance(original_message_id, str) and original_message_id:
        # The MDN reader gave it without its angle brackets: canonical()
        # only drops white space (no "<left@right>" shortcut to try).
        return _ref(_ids.canonical(original_message_id), _BY_ORIGINAL_MESSAGE_ID)
    if isinstance(original, Headers):
        value = original.get("message-id")
        if value:
            plain = _PLAIN_MSG_ID.match(value)
            if plain is not None:
                # The usual "<left@right>": no white space or bracket in the
                # id, which is thus its own canonical() key.
                return _ref(plain[1], _BY_ATTACHED_ORIGINAL)
            found = _msg_id(value, problems, "Message-ID")
            if found:
                return _ref(_ids.canonical(found), _BY_ATTACHED_ORIGINAL)
    in_reply_to = own.get("in-reply-to")
    if in_reply_to:
        ids = _ANGLE_ID.findall(in_reply_to)
        found = _msg_id(ids[0] if ids else in_reply_to, problems, "In-Reply-To")
        if found:
            return _ref(_ids.canonical(found), _BY_IN_REPLY_TO)
    references = own.get("references")
    if references:
        ids = _ANGLE_ID.findall(references)
        last = ids[-1] if ids else (references.split() or [""])[-1]
        found = _msg_id(last, problems, "References") if last else None
        if found:
            return _ref(_ids.canonical(found), _BY_REFERENCES)
    if isinstance(envelope_id, str) and envelope_id:
        return _ref(None, _BY_ENVELOPE_ID, envelope_id)
    return None


def _msg_id(value: str, problems: Problems, field: str) -> str | None:
    """The id of a msg-id field, normalised as :func:`parse_msg_id` does it."""
    # The ASCII pattern first: a class of ranges is cheaper to test than
    # "not white space" (timeit: 0.56 against 0.98 us a match).
    plain = _PLAIN_MSG_ID.match(value) or _PLAIN_ID.match(value)
    if plain is not None:
        return plain[1]
    return parse_msg_id(value, problems, field=field)


def _fields(fields: Iterable[_mime.HeaderField]) -> list[Field]:
    return [Field(f.name, f.value, f.line) for f in fields]


def _content_only(head: str) -> bool:
    """True when the header block *head* is empty or one Content-* field (RFC 2045 §9).

    The usual head of a report part, or of a multipart/report inside a
    multipart/signed (AS2), is one ``Content-Type: ...`` line: it holds no
    MDN field and none of the report message's own fields, so neither is
    looked for (a find_fields over it: about 2 us).
    """
    return not head or (
        "\n" not in head
        and (head.startswith("Content-Type:") or _CONTENT_FIELD.match(head) is not None)
    )
