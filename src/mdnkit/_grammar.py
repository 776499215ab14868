"""The report-field grammar shared by the MDN and DSN readers.

The second part of a report (``message/disposition-notification``,
``message/delivery-status`` and their RFC 6533 ``message/global-*`` forms)
is a list of RFC 5322 header-style fields, grouped by blank lines
(RFC 3464 §2.1, RFC 8098 §3.1).  This module reads those groups and the
small values inside them: typed addresses, message ids, dates, and the
``Disposition`` field, which has a real grammar and so gets a tokenizer
and one ``_parse_<rule>`` function per ABNF rule.

RFC 8098 §7 says parsers MUST read every ``OWS`` as ``[CFWS]``: comments
may appear between any two tokens, so the tokenizer skips them and keeps
their text, and :func:`strip_comments` does the same for the free-form
values.

Everything here is lenient in the way real senders need (see each
function), records what it worked around in a
:class:`~mdnkit._defects.Problems`, and raises only
:class:`~mdnkit.ParseError`.

Defect codes emitted here (``field`` is the report field concerned):

============================= ==============================================================
code                          meaning
============================= ==============================================================
``limit-exceeded``            a field or the number of fields is over a :class:`Limits`
                              bound (raised, never just recorded)
``not-a-field``               a line in the report part is not ``name: value``; skipped
``orphan-continuation``       a folded (indented) line with no field before it
``unclosed-comment``          ``(`` without its ``)``; the rest is taken as the comment
``unclosed-quote``            ``"`` without its closing ``"``; the rest is taken as quoted
``empty-address``             an address field with nothing in it, or nothing after ``;``
``missing-address-type``      no ``address-type ;`` before the address (type guessed)
``display-name``              a display name or angle brackets around an rfc822 address
``source-route``              an obsolete ``@relay:`` source route before the mailbox
``bad-utf8-escape``           a ``\\x{...}`` escape of RFC 6533 that names no character
``empty-message-id``          a message-id field with no id
``missing-angle-brackets``    a msg-id written without ``<`` ``>``
``unclosed-angle-bracket``    a msg-id with ``<`` but no ``>``
``white-space-in-message-id`` white space inside a msg-id (kept as written)
``message-id-without-at``     a msg-id with no ``@`` (AS2 gateways send bare GUIDs)
``several-message-ids``       more than one msg-id; the first is used
``junk-around-message-id``    text other than comments before or after the msg-id
``date-without-timezone``     a date with ``-0000`` or no zone; taken as UTC
``iso-date``                  an ISO 8601 date instead of RFC 5322 ``date-time``
``unparseable-date``          a date that cannot be read
``obsolete-disposition-type`` ``denied`` or ``failed`` (RFC 2298; AS2 still sends
                              ``failed``)
``unknown-disposition-type``  a disposition type no RFC defines; kept lower-cased
``obsolete-modifier``         RFC 2298 ``warning``, ``superseded``, ``expired``,
                              ``mailbox-terminated``
``as2-modifier``              RFC 4130's ``error: text``, ``warning: text``,
                              ``failure: text``
============================= ==============================================================
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

from ._address import addr_spec
from ._defects import Problems
from .errors import ParseError
from .limits import DEFAULT_LIMITS, Limits
from .model import (
    ActionMode,
    AddressField,
    Disposition,
    DispositionType,
    Headers,
    SendingMode,
    _address_field,
)

__all__ = [
    "Field",
    "FieldGroup",
    "FieldTuple",
    "Plan",
    "Reader",
    "Token",
    "field_headers",
    "parse_address_field",
    "parse_date",
    "parse_disposition",
    "parse_msg_id",
    "read_address",
    "read_date",
    "read_fields",
    "read_groups",
    "read_msg_id",
    "strip_comments",
    "tokenize",
    "usual_plans",
]


class Field(NamedTuple):
    """One ``name: value`` field of a report part, unfolded.

    What callers build (the parser, for the fields of a part's header
    block); :func:`read_fields` hands out the same three values in a
    plain :data:`FieldTuple`.
    """

    name: str  # as written
    value: str  # unfolded, leading and trailing white space removed
    line: int  # 1-based line number where the field starts


# (name, value, line), as in Field, in a plain tuple: read_fields makes one
# per field of every report read, and a tuple display is built by one
# bytecode where a named tuple costs a call.  A Field is one too (both
# unpack and compare alike).
FieldTuple = tuple[str, str, int]


# ---------------------------------------------------------------------------
# Fields and groups

# RFC 5322 §3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126.  Some
# generators put white space before the colon (obs-optional, §4.5.3).
_FIELD_LINE = re.compile(r"([\x21-\x39\x3b-\x7e]+)[ \t]*:[ \t]*")
_WSP = " \t"

# How much of a stranger's value a defect or error message quotes: enough to
# recognise it, bounded so that a 200 KB field does not become a 200 KB message.
_SHOWN = 80


def _shown(text: str) -> str:
    """*text* quoted for a message, cut to ``_SHOWN`` characters."""
    return repr(text) if len(text) <= _SHOWN else repr(text[:_SHOWN]) + "..."


def read_fields(text: str, problems: Problems, limits: Limits) -> list[list[FieldTuple]]:
    """Split a report body into groups of ``(name, value, line)`` fields at blank lines.

    RFC 3464 §2.1 and RFC 8098 §3.1: the body is header-style fields
    (RFC 5322 §2.2, folding included) in groups separated by blank lines;
    an MDN has one group, a DSN a per-message group then one per recipient.

    Tolerated, because real generators do it: CRLF, LF or bare CR line
    ends (AS2 payloads over HTTP mix them), several or leading blank
    lines, a byte-order mark, white-space-only "blank" lines, no space
    after the colon.  A line that is not a field is skipped with a
    ``not-a-field`` defect; an indented line with no field before it is
    an ``orphan-continuation`` (read as a field when it looks like one).

    Raises :class:`ParseError` (``limit-exceeded``) when a field is longer
    than ``limits.max_line_bytes`` or there are more than
    ``limits.max_report_fields`` fields.
    """
    return [fields for fields, _keys in read_groups(text, problems, limits)]


# One group of fields and the lower-cased name of each, made as the fields
# are read: field names are case-insensitive, so every reader looks them up
# lower-cased, and tests a group's names as a whole with set operations.
FieldGroup = tuple[list[FieldTuple], list[str]]


def read_groups(text: str, problems: Problems, limits: Limits) -> list[FieldGroup]:
    """:func:`read_fields`, each group with the lower-cased names of its fields."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.count("\r") != text.count("\r\n"):
        text = _lf_line_ends(text)  # a bare CR ends a line too
    # Otherwise the fast reader takes CRLF and LF as they are: two counts
    # cost less than the copies of normalising (timeit, a 620-character
    # DSN: 0.5 us against 2.0 us).
    fast = _read_well_formed(text, limits)
    if fast is not None:
        return fast
    return [_group(fields) for fields in _read_careful(_lf_line_ends(text), problems, limits)]


def _lf_line_ends(text: str) -> str:
    """*text* with every CRLF and bare CR line end made LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _group(fields: list[FieldTuple]) -> FieldGroup:
    """*fields* with the lower-cased name of each."""
    return fields, [name.lower() for name, _value, _line in fields]


def _read_careful(text: str, problems: Problems, limits: Limits) -> list[list[FieldTuple]]:
    """:func:`read_fields` line by line, recording every oddity (LF line ends only)."""
    # Not str.splitlines(): that also splits on \x0b, \x1c, U+2028 …,
    # which may legitimately sit inside a UTF-8 value (RFC 6533).
    lines = text.split("\n")
    groups: list[list[FieldTuple]] = []
    group: list[FieldTuple] = []
    # The field being read: name, first line number, value (first line and
    # folded lines), size in bytes.
    name: str | None = None
    start = 0
    head = ""
    folded: list[str] = []
    size = 0
    count = 0
    max_bytes = limits.max_line_bytes
    for number, line in enumerate(lines, 1):
        if not line or line.isspace():
            if name is not None:
                value = head + "".join(folded) if folded else head
                group.append((name, value.strip(), start))
                name = None
            if group:
                groups.append(group)
                group = []
            continue
        text = line
        if line[0] in _WSP:
            if name is not None:
                size += len(line) if line.isascii() else len(line.encode("utf-8", "surrogatepass"))
                if size > max_bytes:
                    raise _too_long(limits, start)
                folded.append(line)
                continue
            problems.add(
                "orphan-continuation",
                f"Line {number} is indented but no field precedes it",
                source=line,
                position=0,
            )
            text = line.lstrip(_WSP)
        if name is not None:
            value = head + "".join(folded) if folded else head
            group.append((name, value.strip(), start))
            name = None
        match = _FIELD_LINE.match(text)
        if match is None:
            problems.add(
                "not-a-field",
                f"Line {number} is not a 'name: value' field; skipped",
                source=line,
                position=0,
            )
            continue
        size = len(line) if line.isascii() else len(line.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise _too_long(limits, number)
        count += 1
        if count > limits.max_report_fields:
            raise ParseError(
                f"More than {limits.max_report_fields} fields in the report part",
                code="limit-exceeded",
            )
        name = match.group(1)
        start = number
        head = text[match.end() :]
        folded = []
    if name is not None:
        value = head + "".join(folded) if folded else head
        group.append((name, value.strip(), start))
    if group:
        groups.append(group)
    return groups


# One line of a well-formed report part, as findall() tuples (name, value,
# junk): a field with its folded lines (a continuation line starts with
# WSP and is not blank), a blank line (all three empty), or anything else
# (junk), which sends the part to the careful line-by-line reader.  Line
# ends are LF or CRLF: a CR before LF is white space, so it ends a blank
# line, a value's strip() drops it, and a folded value loses it with its LF.
# Possessive runs: none of them could give back a character the next item
# takes (each ends where LF or a character outside it follows), and they
# save sre the backtracking bookkeeping (timeit, findall over a 620-character
# DSN: 10.2 us against 11.1 us).
_WELL_FORMED_LINE = re.compile(
    r"(?:([\x21-\x39\x3b-\x7e]++)[ \t]{0,8}+:([^\n]*+(?:\n[ \t][^\S\n]*+\S[^\n]*+)*+)"
    r"|[^\S\n]*+|([^\n]++))\n"
)
# Room for what the groups above leave out of a field: up to 8 blanks, the
# colon, the line breaks (counted apart).
_FIELD_EXTRA = 9
_BLANK_ROW = ("", "", "")


def _read_well_formed(text: str, limits: Limits) -> list[FieldGroup] | None:
    """:func:`read_groups` for a part with nothing to report, or None.

    Line ends are LF or CRLF (no bare CR).

    One C-level ``findall`` over the part instead of a regex match per
    line.  None (the careful reader takes over, and records or raises
    what it finds) as soon as a line is not a field, a continuation or a
    blank line, or a bound might be reached.
    """
    if not text.endswith("\n"):
        text += "\n"
    rows = _WELL_FORMED_LINE.findall(text)
    if len(rows) > limits.max_report_fields:
        return None  # perhaps too many fields: the careful reader counts them
    # A field of at most this many characters is within max_line_bytes
    # whatever they are (4 bytes at most each in UTF-8); only a part that
    # long needs its fields measured.
    short = limits.max_line_bytes // 4 - _FIELD_EXTRA
    if len(text) > short and any(len(name) + len(value) > short for name, value, _ in rows):
        return None  # perhaps too long: the careful reader measures it
    rows.append(_BLANK_ROW)  # the end of the part ends its last group
    groups: list[FieldGroup] = []
    fields: list[FieldTuple] = []
    keys: list[str] = []
    line = 0  # the number of the row's first line
    # Plain steps per row: for the few fields of a report they cost less
    # than building map() or zip() objects over them.
    for name, value, junk in rows:
        line += 1
        if not name:
            if junk:
                return None
            if fields:  # a blank line ends a group
                groups.append((fields, keys))
                fields = []
                keys = []
        elif "\n" in value:
            # RFC 5322 §2.2.3 unfolding: the line breaks go, the white space stays
            # (no bare CR gets here: each CR is part of a CRLF).
            fields.append((name, value.replace("\r", "").replace("\n", "").strip(), line))
            keys.append(name.lower())
            line += value.count("\n")  # the folded lines
        else:
            fields.append((name, value.strip(), line))
            keys.append(name.lower())
    return groups


# Most report groups have no extension field: they share one empty Headers.
_NO_FIELDS = Headers._from_pairs(())


def field_headers(fields: list[tuple[str, str]]) -> Headers:
    """``Headers`` of the (name, value) pairs *fields* (the extension fields of a group)."""
    return Headers._from_pairs(tuple(fields)) if fields else _NO_FIELDS


# A reader of a field's value takes (value, field name, problems, limits).
Reader = Callable[[str, str, Problems, Limits], Any]
# The key each field of a group fills and its reader, by the field's place;
# None for a field kept as an extension field.
Plan = tuple[tuple[str, Reader | None], ...]


def usual_plans(
    readers: Mapping[str, tuple[str, Reader]], required: tuple[str, ...], *orders: tuple[str, ...]
) -> dict[tuple[str, ...], Plan]:
    """The plan of each usual order of a group's lower-cased field names.

    *readers* holds the key and the reader of each known field.  Each of
    *orders* counts with any of its fields left out but the *required*
    ones; a name *readers* does not hold is an extension field.  A group
    whose names are one of these orders has every required field and no
    field twice: it is read by place, with no lookup or duplicate check
    per field (timeit, a Postfix recipient group: 14.0 us against 15.8 us,
    the readers' own work included).
    """
    plans: dict[tuple[str, ...], Plan] = {}
    for order in orders:
        optional = [name for name in order if name not in required]
        for kept in itertools.product((False, True), repeat=len(optional)):
            dropped = {name for name, keep in zip(optional, kept, strict=True) if not keep}
            names = tuple(name for name in order if name not in dropped)
            plans[names] = tuple(readers.get(name, (name, None)) for name in names)
    return plans


def _too_long(limits: Limits, line: int) -> ParseError:
    return ParseError(
        f"The field at line {line} is longer than {limits.max_line_bytes} bytes",
        code="limit-exceeded",
    )


# ---------------------------------------------------------------------------
# Comments and quoted strings (RFC 5322 §3.2.2, §3.2.4)

_COMMENT_STOP = re.compile(r"[()\\]")
_QUOTED = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*("|\\?\Z)', re.DOTALL)
_COMMENT_OR_QUOTE = re.compile(r'[("]')


def _read_comment(
    value: str, start: int, problems: Problems | None, field: str | None, limits: Limits
) -> tuple[int, str]:
    """Read the comment opening at *start*; return (end offset, inner text).

    ``comment = "(" *([FWS] ccontent) [FWS] ")"``,
    ``ccontent = ctext / quoted-pair / comment`` (RFC 5322 §3.2.2).

    With *problems* None an unclosed comment raises; otherwise it is a
    defect and the rest of the value is the comment.
    """
    depth = 1
    pos = start + 1
    while True:
        match = _COMMENT_STOP.search(value, pos)
        if match is None:
            message = "Comment is not closed: missing ')'"
            if problems is None:
                raise ParseError(
                    message, source=value, position=start, field=field, code="unclosed-comment"
                )
            problems.add("unclosed-comment", message, field=field, source=value, position=start)
            return len(value), value[start + 1 :]
        char = match.group()
        pos = match.end()
        if char == "\\":
            pos += 1
        elif char == "(":
            depth += 1
            if depth > limits.max_comment_depth:
                raise ParseError(
                    f"Comments nested deeper than {limits.max_comment_depth}",
                    source=value,
                    position=match.start(),
                    field=field,
                    code="limit-exceeded",
                )
        else:
            depth -= 1
            if depth == 0:
                return pos, value[start + 1 : pos - 1]


def _read_quoted(value: str, start: int, problems: Problems | None, field: str | None) -> int:
    """Offset after the quoted-string opening at *start* (RFC 5322 §3.2.4)."""
    match = _QUOTED.match(value, start)
    assert match is not None  # the pattern matches any text that starts with '"'
    if match.group(1) != '"':
        message = "Quoted string is not closed: missing '\"'"
        if problems is None:
            raise ParseError(
                message, source=value, position=start, field=field, code="unclosed-quote"
            )
        problems.add("unclosed-quote", message, field=field, source=value, position=start)
    return match.end()


def strip_comments(
    value: str,
    problems: Problems | None = None,
    *,
    field: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[str, tuple[str, ...]]:
    """Remove RFC 5322 comments outside quoted strings.

    ``CFWS = (1*([FWS] comment) [FWS]) / FWS`` (RFC 5322 §3.2.2).

    Each comment becomes one space, the result is stripped, and the
    comment texts (without their outer parentheses) are returned in
    order.  An unclosed comment is a defect (when *problems* is given)
    and runs to the end of the value; the text before it is kept.
    Raises :class:`ParseError` (``limit-exceeded``) past
    ``limits.max_comment_depth`` levels of nesting.
    """
    if "(" not in value:
        return value.strip(), ()
    out: list[str] = []
    comments: list[str] = []
    pos = 0
    while True:
        match = _COMMENT_OR_QUOTE.search(value, pos)
        if match is None:
            out.append(value[pos:])
            break
        at = match.start()
        out.append(value[pos:at])
        if match.group() == '"':
            pos = _read_quoted(value, at, Problems() if problems is None else problems, field)
            out.append(value[at:pos])
            continue
        pos, comment = _read_comment(
            value, at, Problems() if problems is None else problems, field, limits
        )
        comments.append(comment)
        out.append(" ")
    return "".join(out).strip(), tuple(comments)


def _find_outside(
    value: str,
    stops: re.Pattern[str],
    *,
    start: int = 0,
    problems: Problems | None,
    field: str | None,
    limits: Limits,
    comments: list[str] | None = None,
) -> int:
    """Offset of the first stop character outside quoted strings and comments.

    *stops* matches ``(``, ``"`` and the stop character; the search jumps from one to
    the next with the regex engine, so plain text costs no Python step per
    character.  The search begins at *start*; ``len(value)`` when there is
    no stop character.
    """
    pos = start
    while True:
        match = stops.search(value, pos)
        if match is None:
            return len(value)
        char = match.group()
        if char not in '("':
            return match.start()
        if char == "(":
            pos, comment = _read_comment(value, match.start(), problems, field, limits)
            if comments is not None:
                comments.append(comment)
        else:
            pos = _read_quoted(value, match.start(), problems, field)


_SEMICOLON_STOP = re.compile(r'[(";]')


# ---------------------------------------------------------------------------
# Tokenizer


@dataclasses.dataclass(frozen=True, slots=True)
class Token:
    """One token of a field value, with its offsets in the value."""

    kind: str  # "atom", "quoted", "special" (one delimiter character) or "end"
    text: str
    start: int
    end: int


# RFC 5321 §4.1.2 Atom is 1*atext; we cut atoms only at white space and the
# delimiters the report grammars use, so '=' '.' '?' stay inside (AS2 names,
# MIC values, dotted host names).
_TOKEN = re.compile(
    r'(?P<wsp>\s+)|(?P<atom>[^\s()<>\[\]:;@\\,"/]+)|(?P<quote>")|(?P<comment>\()|(?P<special>.)',
    re.DOTALL,
)


def tokenize(
    value: str,
    problems: Problems | None = None,
    *,
    field: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[list[Token], tuple[str, ...]]:
    """Split a field value into atoms, quoted strings and delimiters.

    White space and comments are CFWS (RFC 8098 §7: "MDN parsers MUST
    parse [OWS] as [CFWS]") and are skipped; the comment texts are
    returned beside the tokens.  The last token is always ``end``.  With
    *problems* None, an unclosed comment or quoted string raises
    :class:`ParseError`.
    """
    scanner = _Scanner(value, problems, field, limits)
    tokens = [scanner.take()]
    while tokens[-1].kind != "end":
        tokens.append(scanner.take())
    return tokens, tuple(scanner.comments)


_TEXT_STOP = re.compile(r'[(",]')


class _Scanner:
    """Reads tokens on demand, so a parse that fails early stops early.

    Also builds the ParseErrors of a parse: they point into the value.
    """

    __slots__ = ("_last_end", "_next", "_pos", "comments", "field", "limits", "problems", "source")

    def __init__(
        self, source: str, problems: Problems | None, field: str | None, limits: Limits
    ) -> None:
        self.source = source
        self.problems = problems
        self.field = field
        self.limits = limits
        self.comments: list[str] = []
        self._pos = 0  # where the next token is looked for
        self._last_end = 0  # end of the last token taken
        self._next: Token | None = None

    def _scan(self) -> Token:
        value, pos, end = self.source, self._pos, len(self.source)
        while pos < end:
            match = _TOKEN.match(value, pos)
            assert match is not None  # '.' with DOTALL matches any character
            kind = match.lastgroup
            if kind == "wsp":
                pos = match.end()
            elif kind == "comment":
                pos, comment = _read_comment(value, pos, self.problems, self.field, self.limits)
                self.comments.append(comment)
            elif kind == "quote":
                stop = _read_quoted(value, pos, self.problems, self.field)
                self._pos = stop
                return Token("quoted", value[pos:stop], pos, stop)
            else:
                assert kind is not None
                self._pos = match.end()
                return Token(kind, match.group(), pos, match.end())
        self._pos = end
        return Token("end", "", end, end)

    def peek(self) -> Token:
        if self._next is None:
            self._next = self._scan()
        return self._next

    def take(self) -> Token:
        token = self.peek()
        self._next = None
        if token.kind != "end":
            self._last_end = token.end
        return token

    def at(self, char: str) -> bool:
        token = self.peek()
        return token.kind == "special" and token.text == char

    def here(self) -> int:
        """Where something missing was expected: just after the last token read."""
        return self._last_end

    def text_to_comma(self) -> str:
        """The free text up to the next ',' outside quotes and comments.

        Comments in it are removed (and then its white space runs become
        single spaces); otherwise it is as written, trimmed.  Jumps from
        delimiter to delimiter with the regex engine: plain text costs no
        Python step per character.
        """
        assert self._next is None, "text_to_comma() follows take()"
        start = self._pos
        stop_at = _find_outside(
            self.source,
            _TEXT_STOP,
            start=start,
            problems=self.problems,
            field=self.field,
            limits=self.limits,
            comments=self.comments,
        )
        text, comments = strip_comments(self.source[start:stop_at], Problems(), limits=self.limits)
        if comments:
            text = " ".join(text.split())
        self._pos = stop_at
        if text:
            self._last_end = stop_at
        return text

    def error(self, message: str, position: int) -> ParseError:
        return ParseError(message, source=self.source, position=position, field=self.field)

    def expect(self, char: str, message: str) -> None:
        if not self.at(char):
            raise self.error(message, self.here())
        self.take()


# ---------------------------------------------------------------------------
# Disposition (RFC 8098 §3.2.6, with RFC 2298 and RFC 4130 vocabulary)

_ACTION_MODES = {m.value.lower(): m for m in ActionMode}
_SENDING_MODES = {m.value.lower(): m for m in SendingMode}
_TYPES = {t.value: t for t in DispositionType}
# RFC 2298 §3.2.6.3 modifiers, removed by RFC 3798 for lack of use.
_OBSOLETE_MODIFIERS = frozenset({"warning", "superseded", "expired", "mailbox-terminated"})
# What nearly every MDN sends (RFC 8098 §3.2.6, any case, OWS as plain
# white space): read without the tokenizer.  Anything else, including the
# obsolete types that need a defect, goes through the grammar.  Matched
# against the lower-cased value: only ASCII letters then spell the words
# (an IGNORECASE match also took "ſ" for "s" and "İ" for "i", whose
# lower-case forms name no mode, and a KeyError followed).
_PLAIN_DISPOSITION = re.compile(
    r"[ \t]*(manual-action|automatic-action)[ \t]*/[ \t]*(mdn-sent-manually|mdn-sent-automatically)"
    r"[ \t]*;[ \t]*(displayed|deleted|dispatched|processed)[ \t]*\Z"
)
# Every value that shape can give (2 x 2 x 4, all immutable), by its
# lower-cased words: built once here rather than once per field.
_PLAIN_DISPOSITIONS = {
    (action_key, sending_key, type_key): Disposition(
        action_mode=action, sending_mode=sending, type=_TYPES[type_key], modifiers=()
    )
    for action_key, action in _ACTION_MODES.items()
    for sending_key, sending in _SENDING_MODES.items()
    for type_key in ("displayed", "deleted", "dispatched", "processed")
}
# The same values by their usual lower-cased spellings, "mode/mode;type" and
# "mode/mode; type": one dict lookup where the match, its groups and the
# lookup above cost four times as much (timeit: 0.3 us against 1.2 us).
# Only ASCII text lowers to these keys (the one other character that lowers
# to ASCII, KELVIN SIGN, gives "k", which none of them holds).
_USUAL_DISPOSITIONS = {
    f"{action}/{sending}{semicolon}{kind}": disposition
    for (action, sending, kind), disposition in _PLAIN_DISPOSITIONS.items()
    for semicolon in (";", "; ")
}


def parse_disposition(
    text: str,
    *,
    problems: Problems | None = None,
    field: str | None = "Disposition",
    limits: Limits = DEFAULT_LIMITS,
) -> Disposition:
    """Read the value of a ``Disposition`` field.

    Case is free (RFC 8098 §3.2.6), comments may sit anywhere white space
    may, and the obsolete vocabulary real senders still use is read:
    ``denied``/``failed`` types (RFC 2298, AS2), the RFC 2298 modifiers,
    and RFC 4130's ``error: text`` modifiers (normalised to
    ``"error: text"``, the name lower-cased, the text as written).  Those
    are recorded in *problems* when given.

    Raises :class:`ParseError` with a caret under the fault when the
    value does not follow the grammar::

        >>> parse_disposition("manual-action MDN-sent-manually; displayed")
        Traceback (most recent call last):
        ...
        mdnkit.errors.ParseError: Disposition: Expected '/' between action mode and sending mode
          manual-action MDN-sent-manually; displayed
                       ^
    """
    lowered = text.lower()
    usual = _USUAL_DISPOSITIONS.get(lowered)
    if usual is not None:
        return usual
    plain = _PLAIN_DISPOSITION.match(lowered)
    if plain is not None:
        # The common shape, no comments, no modifiers: nothing to record.
        action, sending, kind = plain.groups()
        return _PLAIN_DISPOSITIONS[action, sending, kind]
    return _parse_disposition_field(_Scanner(text, problems, field, limits), problems)


def _parse_disposition_field(cur: _Scanner, problems: Problems | None) -> Disposition:
    """RFC 8098 §3.2.6::

    disposition-field = "Disposition" ":" OWS disposition-mode OWS ";"
              OWS disposition-type
              [ OWS "/" OWS disposition-modifier
              *( OWS "," OWS disposition-modifier ) ] OWS
    """
    action_mode, sending_mode = _parse_disposition_mode(cur)
    cur.expect(";", "Expected ';' after sending mode")
    disposition_type = _parse_disposition_type(cur, problems)
    modifiers: list[str] = []
    if cur.at("/"):
        cur.take()
        modifiers.append(_parse_disposition_modifier(cur, problems))
        while cur.at(","):
            cur.take()
            modifiers.append(_parse_disposition_modifier(cur, problems))
    token = cur.peek()
    if token.kind != "end":
        raise cur.error(f"Unexpected {_shown(token.text)} after the disposition", token.start)
    return Disposition(
        action_mode=action_mode,
        sending_mode=sending_mode,
        type=disposition_type,
        modifiers=tuple(modifiers),
    )


def _parse_disposition_mode(cur: _Scanner) -> tuple[ActionMode, SendingMode]:
    """RFC 8098 §3.2.6::

    disposition-mode = action-mode OWS "/" OWS sending-mode
    """
    action_mode = _parse_action_mode(cur)
    cur.expect("/", "Expected '/' between action mode and sending mode")
    return action_mode, _parse_sending_mode(cur)


def _parse_action_mode(cur: _Scanner) -> ActionMode:
    """RFC 8098 §3.2.6.1::

    action-mode = "manual-action" / "automatic-action"
    """
    token = cur.peek()
    if token.kind != "atom":
        raise cur.error(
            "Expected an action mode ('manual-action' or 'automatic-action')", token.start
        )
    mode = _ACTION_MODES.get(token.text.lower())
    if mode is None:
        raise cur.error(
            f"Unknown action mode {_shown(token.text)}: expected 'manual-action' or 'automatic-action'",
            token.start,
        )
    cur.take()
    return mode


def _parse_sending_mode(cur: _Scanner) -> SendingMode:
    """RFC 8098 §3.2.6.1::

    sending-mode = "MDN-sent-manually" / "MDN-sent-automatically"
    """
    token = cur.peek()
    if token.kind != "atom":
        raise cur.error(
            "Expected a sending mode ('MDN-sent-manually' or 'MDN-sent-automatically')",
            token.start,
        )
    mode = _SENDING_MODES.get(token.text.lower())
    if mode is None:
        raise cur.error(
            f"Unknown sending mode {_shown(token.text)}: "
            "expected 'MDN-sent-manually' or 'MDN-sent-automatically'",
            token.start,
        )
    cur.take()
    return mode


def _parse_disposition_type(cur: _Scanner, problems: Problems | None) -> DispositionType | str:
    """RFC 8098 §3.2.6.2 (RFC 2298 §3.2.6.2 and RFC 4130 §7.4.3 add two)::

    disposition-type = "displayed" / "deleted" / "dispatched" /
              "processed"
    ; RFC 2298: / "denied" / "failed";  AS2-disposition-type = "processed" | "failed"
    """
    token = cur.peek()
    if token.kind != "atom":
        raise cur.error("Expected a disposition type after ';'", cur.here())
    cur.take()
    word = token.text.lower()
    known = _TYPES.get(word)
    if known is None:
        if problems is not None:
            problems.add(
                "unknown-disposition-type",
                f"Disposition type {_shown(word)} is not defined by RFC 8098",
                field=cur.field,
                source=cur.source,
                position=token.start,
            )
        return word
    if known.obsolete and problems is not None:
        problems.add(
            "obsolete-disposition-type",
            f"Disposition type {_shown(word)} was removed by RFC 3798 (AS2 still uses 'failed')",
            field=cur.field,
            source=cur.source,
            position=token.start,
        )
    return known


def _parse_disposition_modifier(cur: _Scanner, problems: Problems | None) -> str:
    """RFC 8098 §3.2.6.3, and RFC 4130 §7.4.3's forms with text::

    disposition-modifier = "error" / disposition-modifier-extension
    disposition-modifier-extension = Atom
    AS2-disposition-modifier-extension = "error: " text / "warning: " text /
              "failure: " text
    """
    token = cur.peek()
    if token.kind != "atom":
        raise cur.error("Expected a disposition modifier", cur.here())
    cur.take()
    name = token.text.lower()
    if not cur.at(":"):
        if name in _OBSOLETE_MODIFIERS and problems is not None:
            problems.add(
                "obsolete-modifier",
                f"Disposition modifier {_shown(name)} was removed by RFC 3798",
                field=cur.field,
                source=cur.source,
                position=token.start,
            )
        return name
    cur.take()
    # The text runs to the next ',' or the end, as written (RFC 4130 §7.4.3
    # lets it hold any TEXT, and says nothing may be assumed about it).
    modifier = f"{name}: {cur.text_to_comma()}".rstrip()
    if problems is not None:
        problems.add(
            "as2-modifier",
            f"Disposition modifier {_shown(modifier)} carries text (RFC 4130 AS2 form)",
            field=cur.field,
            source=cur.source,
            position=token.start,
        )
    return modifier


# ---------------------------------------------------------------------------
# Typed addresses (RFC 8098 §3.2.3, RFC 3464 §2.3.1, RFC 6533 §3)

_ATOM = re.compile(r"[^\s()<>\[\]:;@\\,\"/]+\Z")
# An address type with nothing odd before the first ";" (no comment or
# quote to skip), and a bare addr-spec: what the careful reading reads as is.
_PLAIN_TYPED = re.compile(r"[ \t]*([A-Za-z0-9][A-Za-z0-9.+_-]*)[ \t]*;(.*)\Z", re.DOTALL)
_PLAIN_MAILBOX = re.compile(r'[ \t]*([^\s()<>\[\]:;@\\,"]+@[^\s()<>\[\]:;@\\,"]+)[ \t]*\Z')
# The three usual values, in one match, each read as _PLAIN_TYPED and the
# code after it read them (the group that matched tells the type):
# 1. rfc822 (any case) and _PLAIN_MAILBOX in printable ASCII only (a class
#    of ranges is a bitmap test per character, where "not white space"
#    asks for the Unicode category of each one); a mailbox outside it is
#    read by those two;
# 2. rfc822 and a text with no '@' and no '(': an AS2 trading-partner name
#    ("rfc822; PARTNER-B"), kept as written, stripped;
# 3. the usual spellings of the dns type (Reporting-MTA, Remote-MTA): the
#    rest of the value, stripped, is the address.
# Linear: each branch is tried once, and its greedy runs back off only
# over white space to the last character that is not.
_PLAIN_ADDRESS = re.compile(
    r"[ \t]*+(?:[Rr][Ff][Cc]822[ \t]*+;"
    r"(?:[ \t]*+([\x21\x23-\x27\x2a\x2b\x2d-\x39\x3d\x3f\x41-\x5a\x5e-\x7e]+"
    r"@[\x21\x23-\x27\x2a\x2b\x2d-\x39\x3d\x3f\x41-\x5a\x5e-\x7e]+)[ \t]*"
    r"|\s*+([^@(]*[^@(\s])\s*)"
    r"|(?:dns|DNS)[ \t]*+;\s*+(.*\S)\s*)\Z",
    re.DOTALL,
)
# The address type of each group of _PLAIN_ADDRESS, by its number.
_PLAIN_ADDRESS_TYPES = ("", "rfc822", "rfc822", "dns")
# RFC 6533 §3 EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}"
_UTF8_ESCAPE = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")


def parse_address_field(
    value: str, problems: Problems, *, field: str, limits: Limits = DEFAULT_LIMITS
) -> AddressField | None:
    """Read ``address-type ";" generic-address`` (RFC 8098 §3.2.3, RFC 3464 §2.3.1).

    Also ``mta-name-type ";" mta-name`` (Reporting-MTA, Remote-MTA,
    MDN-Gateway)::

        original-recipient-field = "Original-Recipient" ":" OWS address-type OWS
                  ";" OWS generic-address OWS
        address-type = Atom
        generic-address = *text

    The type is lower-cased (§3.1.2: case-insensitive).  For ``rfc822``
    (and ``utf-8``), comments go and the addr-spec is taken out of what
    real agents write: ``"Jean" <Jean@x>`` (Direct Project), ``<a@b>``,
    an ``@relay:`` source route; each with a defect.  With no type at all
    (``Name <a@b>``) ``rfc822`` is guessed when there is a mailbox, else
    ``unknown``.  RFC 6533 ``utf-8`` addresses have their ``\\x{HEX}``
    escapes decoded.  Other types (``x400``, ``dns``, ``unknown``) keep
    the address as written.  Nothing there: None and a defect.
    """
    return read_address(value, field, problems, limits)


def read_address(value: str, field: str, problems: Problems, limits: Limits) -> AddressField | None:
    """:func:`parse_address_field` with positional arguments, for the report readers."""
    # The most common values first, read as _PLAIN_TYPED below reads them.
    plain = _PLAIN_ADDRESS.match(value)
    if plain is not None:
        found = plain.lastindex or 0  # the one group that matched tells the type
        return _address_field(_PLAIN_ADDRESS_TYPES[found], plain[found])
    plain = _PLAIN_TYPED.match(value)
    if plain is not None:
        # The common shapes, which need none of the repairs below:
        # "rfc822; a@b" and "dns; mx.example (192.0.2.1)".
        address_type, rest = plain.group(1).lower(), plain.group(2)
        if address_type in ("rfc822", "utf-8"):
            mailbox = _PLAIN_MAILBOX.match(rest)
            if mailbox is not None:
                # No backslash in it: no RFC 6533 escape for utf-8 to decode
                # ("utf-8; jürgen@exämple.de", SMTPUTF8 bounces).
                return _address_field(address_type, mailbox.group(1))
            if address_type == "rfc822" and "@" not in rest and "(" not in rest and rest.strip():
                # AS2 trading-partner names ("rfc822; PARTNER-B"): with no
                # '@' there is no addr-spec to take out, with no '(' no
                # comment to drop; _mailbox keeps them as written.
                return _address_field(address_type, rest.strip())
        elif rest.strip():
            return _address_field(address_type, rest.strip())
    # The first ';' outside comments and quotes: '"Doe; Jo" <j@x>' has no type.
    if "(" in value or '"' in value:
        semi = _find_outside(
            value, _SEMICOLON_STOP, problems=Problems(), field=field, limits=limits
        )
    else:
        semi = value.find(";")  # no comment or quoted string to skip
        if semi == -1:
            semi = len(value)
    type_text = ""
    rest = value
    if semi < len(value):
        type_text, _ = strip_comments(value[:semi], problems, field=field, limits=limits)
        if _ATOM.match(type_text):
            rest = value[semi + 1 :]
        else:
            type_text = ""
    if not type_text:
        if not value.strip():
            problems.add("empty-address", "The field is empty", field=field)
            return None
        text, _ = strip_comments(value, problems, field=field, limits=limits)
        guess = "rfc822" if addr_spec(text) is not None else "unknown"
        problems.add(
            "missing-address-type",
            f"No address type before the address; {_shown(guess)} assumed",
            field=field,
            source=value,
            position=0,
        )
        type_text = guess
    # RFC 8098 §3.1.2 and RFC 3464 §2.1.2: address types are case-insensitive,
    # so "RFC822" (Exchange, Sendmail, AOL) is no defect.
    address_type = type_text.lower()
    if address_type == "utf-8":
        rest = _decode_utf8_escapes(rest, problems, field)
    if address_type in ("rfc822", "utf-8"):
        address = _mailbox(rest, problems, field, limits)
    else:
        address = rest.strip()
    if not address:
        problems.add("empty-address", "No address after the address type", field=field)
        return None
    return _address_field(address_type, address)


def _mailbox(text: str, problems: Problems, field: str, limits: Limits) -> str:
    """The addr-spec in an rfc822 generic-address, or the text as written."""
    text, _ = strip_comments(text, problems, field=field, limits=limits)
    spec = addr_spec(text)
    if spec is None or spec == text:
        # AS2 puts a trading-partner name here ("rfc822; PDK000270"): keep it.
        return text
    if text.lstrip("<").startswith("@"):
        problems.add("source-route", f"Source route dropped from {_shown(text)}", field=field)
    else:
        problems.add(
            "display-name", f"Display name or angle brackets around {_shown(spec)}", field=field
        )
    return spec


def _decode_utf8_escapes(text: str, problems: Problems, field: str) -> str:
    """RFC 6533 §3 utf-8-addr-xtext / utf-8-addr-unitext to plain Unicode::

    EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}"
    """

    def decode(match: re.Match[str]) -> str:
        point = int(match.group(1), 16)
        if point > 0x10FFFF or 0xD800 <= point <= 0xDFFF:
            problems.add("bad-utf8-escape", f"{match.group()!r} names no character", field=field)
            return match.group()
        return chr(point)

    return _UTF8_ESCAPE.sub(decode, text)


# ---------------------------------------------------------------------------
# Message ids (RFC 5322 §3.6.4)


_ANY_SPACE = re.compile(r"\s")
# A well-formed msg-id (RFC 5322 §3.6.4) in printable ASCII, white space
# around it allowed; any other goes the careful way.  A class of ranges is a
# bitmap test per character where "not white space" asks for the Unicode
# category of each one (timeit: 0.56 us against 0.98 us a match).
_ID_PART = r"[\x21\x23-\x27\x2a-\x3b\x3d\x3f\x41-\x7e]++"  # not ( ) < > @ " or white space
_PLAIN_MSG_ID = re.compile(rf"\s*+<({_ID_PART}@{_ID_PART})>\s*+\Z")


def parse_msg_id(
    value: str, problems: Problems, *, field: str, limits: Limits = DEFAULT_LIMITS
) -> str | None:
    """Read one msg-id and return it without angle brackets::

        msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]

    Accepted, each with a defect: no angle brackets (AS2 gateways send a
    bare GUID), white space inside (kept as written: Direct Project test
    agents send ``<9501051053.aa04167@IETF.CNR I.Reston.VA.US>``), text
    around the id (a doubled ``<`` among it), several ids (the first is
    used), no ``@``.
    """
    return read_msg_id(value, field, problems, limits)


def read_msg_id(value: str, field: str, problems: Problems, limits: Limits) -> str | None:
    """:func:`parse_msg_id` with positional arguments, for the report readers."""
    plain = _PLAIN_MSG_ID.match(value)
    if plain is not None:
        return plain[1]  # "<left@right>": nothing to repair or record
    text, _ = strip_comments(value, problems, field=field, limits=limits)
    if not text:
        problems.add("empty-message-id", "No message id", field=field)
        return None
    open_at = text.find("<")
    if open_at == -1:
        problems.add(
            "missing-angle-brackets", f"Message id {_shown(text)} is not in '<' '>'", field=field
        )
        inner = text
    else:
        close_at = text.find(">", open_at)
        if close_at == -1:
            problems.add("unclosed-angle-bracket", "Message id has '<' but no '>'", field=field)
            close_at = len(text)
        # The id opens at the last "<" before its ">": a doubled "<<id>"
        # leaves the extra bracket with the text around the id.
        open_at = text.rfind("<", 0, close_at)
        inner = text[open_at + 1 : close_at].strip()
        before, after = text[:open_at].strip(), text[close_at + 1 :].strip()
        if "<" in after:
            problems.add(
                "several-message-ids", "Several message ids; the first is used", field=field
            )
        elif before or after:
            problems.add(
                "junk-around-message-id",
                f"Text around the message id ignored: {_shown((before + ' ' + after).strip())}",
                field=field,
            )
    if not inner:
        problems.add("empty-message-id", "No message id", field=field)
        return None
    if _ANY_SPACE.search(inner):
        problems.add(
            "white-space-in-message-id",
            f"White space inside message id {_shown(inner)} (kept as written)",
            field=field,
        )
    if "@" not in inner:
        problems.add("message-id-without-at", f"Message id {_shown(inner)} has no '@'", field=field)
    return inner


# ---------------------------------------------------------------------------
# Dates (RFC 5322 §3.3)

# No real date-time is longer; a longer value is refused before the
# standard library sees it.
_MAX_DATE = 200
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# RFC 5322 §3.3 in its usual form, with an optional trailing (comment):
# read with fromisoformat(), the standard library's parser only when this
# does not match.  Years below 1000 are left to it (it reads "0099" as
# 1999, RFC 5322 §4.3 two-digit years), and so is "-0000" (no zone
# information: a defect); so are an hour past 23 and a minute or second
# past 59, which datetime() refuses (and a later fromisoformat() might
# not).  Possessive runs: none could give back a character the next item
# takes, and they spare sre the backtracking bookkeeping (timeit, "Mon, 5
# Jan 2026 10:15:00 +0000": 1.15 us against 1.56 us a match).
_PLAIN_DATE = re.compile(
    r"[ \t]*+(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),[ \t]*+)?([0-9]{1,2}+)[ \t]++"
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t]++([1-9][0-9]{3})[ \t]++"
    r"((?:[01][0-9]|2[0-3]):[0-5][0-9])(:[0-5][0-9])?+[ \t]++(?!-0000)([+-][0-9]{4})"
    r"[ \t]*+(?:\([^()\\]{0,60}+\)[ \t]*+)?+\Z"
)
# The ISO 8601 digits of _PLAIN_DATE's month and day ("5" and "05" give "05").
_MONTH_DIGITS = {name: f"{number:02d}" for name, number in _MONTHS.items()}
_DAY_DIGITS = {
    **{str(number): f"{number:02d}" for number in range(10)},
    **{f"{number:02d}": f"{number:02d}" for number in range(100)},
}
_from_iso = datetime.fromisoformat


def parse_date(
    value: str, problems: Problems, *, field: str, limits: Limits = DEFAULT_LIMITS
) -> datetime | None:
    """Read an RFC 5322 ``date-time``; always timezone-aware::

        date-time = [ day-of-week "," ] date time [CFWS]

    Comments (``(EDT)``, ``(GMT)``) and extra white space are tolerated.
    ``-0000`` or no zone: UTC, with a defect.  An ISO 8601 date (some AS2
    gateways) is read with a defect.  Anything else: None and a defect.
    """
    return read_date(value, field, problems, limits)


def read_date(value: str, field: str, problems: Problems, limits: Limits) -> datetime | None:
    """:func:`parse_date` with positional arguments, for the report readers."""
    plain = _PLAIN_DATE.match(value)
    if plain is not None:
        day, month, year, hour_minute, second, zone = plain.groups()
        try:
            # The same date-time written as ISO 8601, which fromisoformat()
            # reads in C: one call where int(), the zone's timezone and
            # datetime() took three and seven lookups (timeit, "Mon, 5 Jan
            # 2026 10:14:58 +0000 (UTC)": 3.1 us against 4.2 us a date).
            return _from_iso(
                f"{year}-{_MONTH_DIGITS[month]}-{_DAY_DIGITS[day]}T{hour_minute}"
                f"{second or ':00'}{zone}"
            )
        except ValueError:
            pass  # 30 February, zone +2400: the careful path says so
    text, _ = strip_comments(value, problems, field=field, limits=limits)
    text = " ".join(text.split())
    parsed: datetime | None = None
    if text and len(text) <= _MAX_DATE:
        try:
            parsed = parsedate_to_datetime(text)
        except (ValueError, TypeError, IndexError, OverflowError):
            parsed = None
        if parsed is None:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                parsed = None
            else:
                problems.add("iso-date", f"ISO 8601 date {_shown(text)}", field=field)
    if parsed is None:
        problems.add(
            "unparseable-date", f"Cannot read the date {value.strip()[:80]!r}", field=field
        )
        return None
    if parsed.tzinfo is None:
        problems.add(
            "date-without-timezone", "Date has no time zone (or -0000); UTC assumed", field=field
        )
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
