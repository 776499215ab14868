"""Asking for receipts, and reading what an incoming message asks for.

The sender side adds ``Disposition-Notification-To`` (RFC 8098 §2.1) and,
optionally, ``Disposition-Notification-Options`` (§2.2) to an outgoing
message, and builds the RFC 3461 SMTP parameters (``NOTIFY``, ``RET``,
``ENVID``, ``ORCPT``) that ask MTAs for delivery reports.

The receiving side reads the same headers back into a
:class:`ReceiptRequest`: leniently, because requests come from strangers
(AS2 gateways put a system name where a mailbox belongs); every problem is a
:class:`~mdnkit.Defect` on the request, never an exception.

Everything a caller passes in is checked before it touches a header: line
breaks (CR, LF, U+2028, U+2029, U+0085), NUL and RFC 2047 encoded words are
refused with :class:`~mdnkit.RequestError`, so nothing can be injected.
"""

from __future__ import annotations

import dataclasses
import email.errors
import email.header
import email.message
import email.parser
import email.policy
import email.utils
import re
from collections.abc import Iterable, Mapping, Sequence

from . import _address, _ids
from ._defects import Problems
from ._grammar import parse_address_field, strip_comments
from ._message import read_headers
from .errors import ParseError, RequestError
from .model import AddressField, Defect

__all__ = [
    "DsnOptions",
    "NotificationOption",
    "ReceiptRequest",
    "dsn_options",
    "receipt_request",
    "request_receipt",
    "utf8_addr_xtext",
    "xtext",
]

DNT = "Disposition-Notification-To"
DNO = "Disposition-Notification-Options"
# Pre-RFC 2298 headers still sent by old clients and mailers; they ask for a
# receipt too, but RFC 8098 does not define them (see ReceiptRequest.legacy).
LEGACY_HEADERS = ("Return-Receipt-To", "X-Confirm-Reading-To")

# Characters that end a header line somewhere: CR and LF in SMTP and the
# stdlib, U+0085/U+2028/U+2029 in str.splitlines(), which the stdlib email
# package uses when it refolds headers.  NUL truncates in C mail tools.
_BREAKS = frozenset("\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# RFC 2047 §2 encoded-word: a caller's value that looks like one would be
# decoded by the recipient into something else than what was checked.
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
# RFC 5321 §4.1.2 Atom: 1*atext (the stricter Atom RFC 8098 §7 uses).
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+\Z")
# Bound on a header value read from an incoming message: a DNT with a
# million commas costs linear time, but no one needs more than this.
MAX_REQUEST_HEADER = 16 * 1024
MAX_REQUEST_FIELDS = 8  # fields of one name read from a message's header block
# RFC 3461 §4.4: ENVID is at most 100 characters (applied to the encoded form).
MAX_ENVID = 100


# ---------------------------------------------------------------------------
# Values


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NotificationOption:
    """One RFC 8098 §2.2 ``disposition-notification-parameter``.

    ``str(option)`` is its wire form:

    >>> str(NotificationOption(attribute="signed-receipt-micalg", values=("sha-256",)))
    'signed-receipt-micalg=optional,sha-256'
    """

    attribute: str
    values: tuple[str, ...]
    required: bool = False

    def __str__(self) -> str:
        importance = "required" if self.required else "optional"
        return f"{self.attribute}={importance}," + ",".join(_word(v) for v in self.values)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptRequest:
    """What a message asks for: who wants a receipt, and how.

    - ``addresses``: the ``Disposition-Notification-To`` addr-specs, in
      order, as written (case kept); ``names`` the matching display names
      ("" when none), RFC 2047 decoded.
    - ``options``: the parsed ``Disposition-Notification-Options``;
      ``options_raw`` the header value as read.
    - ``original_recipient``: the ``Original-Recipient`` header (§2.3) an
      MTA added from the RFC 3461 ORCPT, or None (also when there were
      several, as §3.2.3 allows).
    - ``legacy``: addresses from ``Return-Receipt-To`` /
      ``X-Confirm-Reading-To``; not an RFC 8098 request.
    - ``message_id`` (no angle brackets) and ``return_path``: every
      ``Return-Path`` addr-spec, ``""`` for the null path ``<>``.
    - ``defects``: what could not be read (never fatal).
    """

    addresses: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    options: tuple[NotificationOption, ...] = ()
    options_raw: str | None = None
    original_recipient: AddressField | None = None
    legacy: tuple[str, ...] = ()
    message_id: str | None = None
    return_path: tuple[str, ...] = ()
    defects: tuple[Defect, ...] = ()

    @property
    def required_options(self) -> tuple[str, ...]:
        """Attributes marked ``required`` (lower-cased): an MDN needs them understood."""
        return tuple(o.attribute.lower() for o in self.options if o.required)

    def option(self, attribute: str) -> NotificationOption | None:
        """The option named *attribute* (case-insensitive), or None."""
        key = attribute.lower()
        return next((o for o in self.options if o.attribute.lower() == key), None)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DsnOptions:
    """RFC 3461 SMTP parameters, ready for :meth:`smtplib.SMTP.sendmail`.

    ``mail_options`` go with ``MAIL FROM`` (``RET``, ``ENVID``),
    ``rcpt_options`` with every ``RCPT TO`` (``NOTIFY``);
    :meth:`rcpt_options_for` adds ``ORCPT`` for one recipient.
    """

    notify: tuple[str, ...] | None
    ret: str | None
    envid: str | None

    @property
    def mail_options(self) -> list[str]:
        out = []
        if self.ret is not None:
            out.append(f"RET={self.ret}")
        if self.envid is not None:
            out.append(f"ENVID={xtext(self.envid)}")
        return out

    @property
    def rcpt_options(self) -> list[str]:
        return [f"NOTIFY={','.join(self.notify)}"] if self.notify else []

    def rcpt_options_for(self, address: str) -> list[str]:
        """``rcpt_options`` plus ``ORCPT`` (RFC 3461 §4.2) for *address*.

        ASCII addresses use the ``rfc822`` type, xtext-encoded; an address
        with a non-ASCII domain uses RFC 6533 ``utf-8`` with
        ``utf-8-addr-xtext``, which is 7-bit and safe without SMTPUTF8.
        """
        _check_text(address, "address")
        if not _address.is_valid_mailbox(address):
            raise RequestError(f"not a valid mailbox address: {address!r}")
        if address.isascii():
            orcpt = "rfc822;" + xtext(address)
        else:
            orcpt = "utf-8;" + utf8_addr_xtext(address)
        return [*self.rcpt_options, f"ORCPT={orcpt}"]


# ---------------------------------------------------------------------------
# Sender side


def request_receipt(
    msg: email.message.Message,
    notify_to: str | Iterable[str] | None = None,
    *,
    options: Iterable[NotificationOption] | Mapping[str, tuple[str, Sequence[str]]] | None = None,
    legacy: bool = False,
) -> ReceiptRequest:
    """Ask for a read receipt: add ``Disposition-Notification-To`` to *msg*.

    *msg* is modified in place.  *notify_to* is one mailbox (``"a@b"`` or
    ``"Name <a@b>"``) or several; by default the ``From`` mailboxes.  A
    ``Message-ID`` is added when missing (RFC 8098 §2.1: a request needs
    one to be answered usefully), made with the domain of the first address.
    *options* become ``Disposition-Notification-Options`` (§2.2): a sequence
    of :class:`NotificationOption` or a mapping ``attribute -> (importance,
    values)``.  ``legacy=True`` also adds ``Return-Receipt-To`` for old
    mailers.

    Raises :class:`~mdnkit.RequestError` for a second request, a missing
    ``From`` when *notify_to* is None, an invalid address, and any value
    that could break out of its header (line breaks, NUL, encoded words).
    """
    if not isinstance(msg, email.message.Message):
        raise RequestError("request_receipt needs an email.message.Message")
    if msg.get(DNT) is not None:
        raise RequestError(f"the message already has a {DNT} header (RFC 8098 §2.1: at most one)")
    if options is not None and msg.get(DNO) is not None:
        raise RequestError(f"the message already has a {DNO} header (RFC 8098 §2.2: at most one)")
    if legacy and msg.get(LEGACY_HEADERS[0]) is not None:
        raise RequestError(f"the message already has a {LEGACY_HEADERS[0]} header")

    if notify_to is None:
        from_value = _header_text(msg, "From")
        if from_value is None:
            raise RequestError("the message has no From header: say where receipts should go")
        mailboxes = [(_decode_words(n), a) for n, a in split_mailboxes(from_value)]
        if not mailboxes:
            raise RequestError(f"no mailbox address in From: {from_value!r}")
        for name, address in mailboxes:
            _check_mailbox(name, address, "From")
    else:
        items = [notify_to] if isinstance(notify_to, str) else list(notify_to)
        if not items:
            raise RequestError("notify_to is empty")
        mailboxes = []
        for item in items:
            if not isinstance(item, str):
                raise RequestError(f"notify_to must be str addresses, not {type(item).__name__}")
            _check_text(item, "notify_to")
            found = split_mailboxes(item)
            if len(found) != 1:
                raise RequestError(f"notify_to: expected one mailbox per item, got {item!r}")
            _check_mailbox(*found[0], "notify_to")
            mailboxes.append(found[0])

    parsed_options = _options_from_argument(options)

    unique: dict[str, str] = {}
    for name, address in mailboxes:
        unique.setdefault(_a_label_domain(address), name)
    mailboxes = [(n, a) for a, n in unique.items()]

    message_id = _existing_msgid(msg)
    if message_id is None:
        message_id = new_msgid(mailboxes[0][1].rpartition("@")[2])
        msg["Message-ID"] = f"<{message_id}>"
    value = ", ".join(_format_mailbox(n, a) for n, a in mailboxes)
    _set_header(msg, DNT, value)
    if parsed_options:
        _set_header(msg, DNO, "; ".join(str(o) for o in parsed_options))
    if legacy:
        _set_header(msg, LEGACY_HEADERS[0], value)
    return ReceiptRequest(
        addresses=tuple(a for _, a in mailboxes),
        names=tuple(n for n, _ in mailboxes),
        options=parsed_options,
        options_raw="; ".join(str(o) for o in parsed_options) if parsed_options else None,
        legacy=tuple(a for _, a in mailboxes) if legacy else (),
        message_id=message_id,
    )


def _a_label_domain(address: str) -> str:
    """*address* with an IDN domain as A-labels (RFC 5890), so the header stays ASCII.

    A message that is not SMTPUTF8 cannot carry raw UTF-8 in an address
    header (RFC 6532 is an extension); the A-label form is the same domain.
    """
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        converted = f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        converted = ""
    # IDNA maps some characters to dots ("\u2024" -> "."): check the result again.
    if not _address.is_valid_mailbox(converted):
        raise RequestError(f"not a valid internationalised domain: {domain!r}")
    return converted


def _existing_msgid(msg: email.message.Message) -> str | None:
    value = _header_text(msg, "Message-ID")
    if value is None:
        return None
    return _ids.canonical(value)


def new_msgid(domain: str) -> str:
    """A fresh msg-id (no angle brackets) on *domain*, IDNA-encoded when needed.

    ``email.utils.make_msgid`` with a domain never looks up the host name,
    so this stays free of I/O; a Message-ID must be ASCII (RFC 5322 §3.6.4).
    """
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = "mdnkit.invalid"
    return email.utils.make_msgid(domain=domain)[1:-1]


def _options_from_argument(
    options: Iterable[NotificationOption] | Mapping[str, tuple[str, Sequence[str]]] | None,
) -> tuple[NotificationOption, ...]:
    if options is None:
        return ()
    if isinstance(options, Mapping):
        built = []
        for attribute, spec in options.items():
            if not (isinstance(spec, tuple | list) and len(spec) == 2):
                raise RequestError(
                    f"option {attribute!r}: expected (importance, values), got {spec!r}"
                )
            importance, values = spec
            if not isinstance(importance, str) or importance.lower() not in (
                "required",
                "optional",
            ):
                raise RequestError(
                    f"option {attribute!r}: importance must be 'required' or 'optional',"
                    f" not {importance!r}"
                )
            values = (values,) if isinstance(values, str) else tuple(values)
            built.append(
                NotificationOption(
                    attribute=attribute, values=values, required=importance.lower() == "required"
                )
            )
        options = built
    out = []
    seen: set[str] = set()
    for option in options:
        if not isinstance(option, NotificationOption):
            raise RequestError(f"options must be NotificationOption values, not {option!r}")
        attribute = option.attribute
        if not isinstance(attribute, str):
            raise RequestError(f"option attribute must be a str, not {attribute!r}")
        _check_text(attribute, "option attribute")
        if not _ATOM.match(attribute) or "=" in attribute:
            # "=" is atext, but RFC 8098 §2.2 puts it right after the attribute.
            raise RequestError(
                f"option attribute must be an RFC 5321 Atom without '=': {attribute!r}"
            )
        if attribute.lower() in seen:
            raise RequestError(f"option {attribute!r} given twice")
        seen.add(attribute.lower())
        if not option.values:
            raise RequestError(f"option {attribute!r} needs at least one value (RFC 8098 §2.2)")
        for v in option.values:
            if not isinstance(v, str) or not v:
                raise RequestError(f"option {attribute!r}: values must be non-empty str, got {v!r}")
            _check_text(v, f"option {attribute!r}")
            if not all(" " <= c <= "~" for c in v):
                # value = word (RFC 5322): printable US-ASCII, quoted when needed.
                raise RequestError(f"option {attribute!r}: values must be printable ASCII: {v!r}")
        out.append(
            NotificationOption(
                attribute=attribute, values=tuple(option.values), required=option.required
            )
        )
    return tuple(out)


def dsn_options(
    *,
    notify: Iterable[str] | str | None = ("success", "failure", "delay"),
    ret: str | None = "hdrs",
    envid: str | None = None,
) -> DsnOptions:
    """The RFC 3461 parameters asking MTAs for delivery status notifications.

    *notify* (§4.1): any of ``success``, ``failure``, ``delay``, or
    ``never`` alone; None leaves ``NOTIFY`` out (the MTA then reports
    failures only).  *ret* (§4.3): ``hdrs`` or ``full``, None to leave it
    out.  *envid* (§4.4): your identifier for this transaction, returned in
    every DSN as ``Original-Envelope-Id``; printable ASCII, xtext-encoded
    here, at most 100 characters once encoded.
    """
    notify_values: tuple[str, ...] | None = None
    if notify is not None:
        given = [notify] if isinstance(notify, str) else list(notify)
        words = []
        for word in given:
            if not isinstance(word, str):
                raise RequestError(f"notify values must be str, not {word!r}")
            _check_text(word, "notify")
            words.append(word.strip().upper())
        if not words:
            raise RequestError("notify is empty: use ('never',) to ask for no DSN at all")
        unknown = [w for w in words if w not in ("SUCCESS", "FAILURE", "DELAY", "NEVER")]
        if unknown:
            raise RequestError(
                f"unknown NOTIFY value {unknown[0]!r}: use success, failure, delay or never"
            )
        if "NEVER" in words and len(set(words)) > 1:
            raise RequestError("NOTIFY=NEVER cannot be combined with other values (RFC 3461 §4.1)")
        notify_values = tuple(w for w in ("SUCCESS", "FAILURE", "DELAY", "NEVER") if w in words)
    ret_value: str | None = None
    if ret is not None:
        if not isinstance(ret, str):
            raise RequestError(f"ret must be 'full' or 'hdrs', not {ret!r}")
        _check_text(ret, "ret")
        ret_value = ret.strip().upper()
        if ret_value not in ("FULL", "HDRS"):
            raise RequestError(f"ret must be 'full' or 'hdrs', not {ret!r}")
    if envid is not None:
        if not isinstance(envid, str):
            raise RequestError(f"envid must be a str, not {envid!r}")
        if not envid:
            raise RequestError("envid is empty")
        if not all(" " <= c <= "~" for c in envid):
            raise RequestError(f"envid must be printable US-ASCII (RFC 3461 §4.4): {envid!r}")
        if len(xtext(envid)) > MAX_ENVID:
            raise RequestError(
                f"envid is {len(xtext(envid))} characters once xtext-encoded;"
                f" RFC 3461 §4.4 allows {MAX_ENVID}"
            )
    return DsnOptions(notify=notify_values, ret=ret_value, envid=envid)


def xtext(text: str) -> str:
    """RFC 3461 §4 xtext: ``+XX`` for ``+``, ``=`` and bytes outside 33..126.

        xtext = *( xchar / hexchar )
        xchar = any ASCII CHAR between "!" (33) and "~" (126) inclusive,
                except for "+" and "=".
        hexchar = ASCII "+" immediately followed by two upper case
                  hexadecimal digits

    >>> xtext("a+b=c d")
    'a+2Bb+3Dc+20d'
    """
    return "".join(
        chr(b) if 33 <= b <= 126 and b not in (0x2B, 0x3D) else f"+{b:02X}"
        for b in text.encode("utf-8")
    )


def utf8_addr_xtext(address: str) -> str:
    r"""RFC 6533 §3 ``utf-8-addr-xtext``: 7-bit, with ``\x{HEX}`` escapes.

        utf-8-addr-xtext    = 1*(QCHAR / EmbeddedUnicodeChar)
        QCHAR               = %x21-2a / %x2c-3c / %x3e-5b / %x5d-7e
        EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}"

    >>> utf8_addr_xtext("jo+x@bücher.example")
    'jo\\x{2B}x@b\\x{FC}cher.example'
    """
    return "".join(
        c if 0x21 <= ord(c) <= 0x7E and c not in "+=\\" else f"\\x{{{ord(c):X}}}" for c in address
    )


# ---------------------------------------------------------------------------
# Receiving side


def receipt_request(msg: email.message.Message | bytes | str) -> ReceiptRequest | None:
    """What *msg* asks for, or None when it asks for no receipt at all.

    Reads ``Disposition-Notification-To`` (the mailbox list), ``Disposition-
    Notification-Options`` (RFC 8098 §2.2), ``Original-Recipient`` (§2.3),
    the legacy ``Return-Receipt-To`` / ``X-Confirm-Reading-To``, every
    ``Return-Path`` and the ``Message-ID``.  For bytes or str only the
    header block is read.  Problems (a second DNT, an entry that is not a
    mailbox, an option that does not parse) become defects.
    """
    msg = read_headers(msg)
    problems: list[Defect] = []
    dnt_values = _header_texts(msg, DNT, problems)
    legacy_values = [v for name in LEGACY_HEADERS for v in _header_texts(msg, name)]
    if not dnt_values and not legacy_values:
        return None
    if len(dnt_values) > 1:
        problems.append(
            Defect(
                "multiple-dnt",
                f"{len(dnt_values)} {DNT} fields; RFC 8098 §2.1 allows one (all were read)",
                DNT,
            )
        )
    addresses: list[str] = []
    names: list[str] = []
    for value in dnt_values:
        for name, address in _read_mailboxes(value, DNT, problems):
            if address not in addresses:
                addresses.append(address)
                names.append(name)
    legacy: list[str] = []
    for value in legacy_values:
        for _, address in _read_mailboxes(value, "Return-Receipt-To", problems):
            if address not in legacy:
                legacy.append(address)

    options: tuple[NotificationOption, ...] = ()
    dno_values = _header_texts(msg, DNO, problems)
    options_raw = dno_values[0] if dno_values else None
    if len(dno_values) > 1:
        problems.append(
            Defect(
                "multiple-options",
                f"{len(dno_values)} {DNO} fields; RFC 8098 §2.2 allows one (the first was read)",
                DNO,
            )
        )
    if options_raw is not None:
        options = parse_options(options_raw, problems)

    original_recipient = None
    orcpt_values = _header_texts(msg, "Original-Recipient")
    if len(orcpt_values) == 1:
        original_recipient = parse_original_recipient(orcpt_values[0], problems)
    elif len(orcpt_values) > 1:
        # RFC 8098 §3.2.3: "act as if no Original-Recipient header field is present".
        problems.append(
            Defect(
                "multiple-original-recipient",
                f"{len(orcpt_values)} Original-Recipient fields; none is used (RFC 8098 §3.2.3)",
                "Original-Recipient",
            )
        )

    return_path = []
    for value in _header_texts(msg, "Return-Path"):
        stripped = _strip_comments(value).strip()
        if stripped in ("<>", ""):
            return_path.append("")
            continue
        spec = _address.addr_spec(value)
        if spec is None:
            problems.append(
                Defect("malformed-return-path", f"no address in {value[:80]!r}", "Return-Path")
            )
        else:
            return_path.append(spec)

    message_id = None
    mid_values = _header_texts(msg, "Message-ID")
    if mid_values:
        message_id = _ids.canonical(mid_values[0])

    return ReceiptRequest(
        addresses=tuple(addresses),
        names=tuple(names),
        options=options,
        options_raw=options_raw,
        original_recipient=original_recipient,
        legacy=tuple(legacy),
        message_id=message_id,
        return_path=tuple(return_path),
        defects=tuple(problems),
    )


def _read_mailboxes(value: str, field: str, problems: list[Defect]) -> list[tuple[str, str]]:
    out = []
    for name, address in split_mailboxes(value):
        if _address.is_valid_mailbox(address) and not _ENCODED_WORD.search(address):
            out.append((_decode_words(name), address))
        else:
            problems.append(
                Defect("invalid-address", f"not a mailbox address: {address[:80]!r}", field)
            )
    if not out and not value.strip():
        problems.append(Defect("empty-field", "the field is empty", field))
    return out


def parse_options(value: str, problems: list[Defect]) -> tuple[NotificationOption, ...]:
    """RFC 8098 §2.2 ``disposition-notification-parameter-list``.

        disposition-notification-parameter-list =
                  disposition-notification-parameter
                  *([FWS] ";" [FWS] disposition-notification-parameter)
        disposition-notification-parameter = attribute [FWS] "=" [FWS]
                  importance [FWS] "," [FWS] value *([FWS] "," [FWS] value)
        importance = "required" / "optional"
        attribute = Atom
        value = word

    A parameter that does not fit is recorded in *problems* and skipped;
    the others are kept (AS2 senders write ``optional, sha-256`` and
    ``optional,sha1``: both fit the [FWS] grammar).
    """
    out: list[NotificationOption] = []
    for chunk in _split_top(value, ";"):
        text = chunk.strip(" \t")
        if not text:
            continue
        attribute, eq, rest = text.partition("=")
        attribute = attribute.strip(" \t")
        parts = [p.strip(" \t") for p in _split_top(rest, ",")]
        why = None
        if not eq or not _ATOM.match(attribute):
            why = "expected attribute=importance,value"
        elif len(parts) < 2 or parts[0].lower() not in ("required", "optional"):
            why = "expected importance ('required' or 'optional') then at least one value"
        else:
            values = [_unword(p) for p in parts[1:]]
            if any(v is None for v in values):
                why = "a value is not an atom or a quoted string"
        if why is not None:
            problems.append(Defect("malformed-option", f"{why}: {text[:80]!r}", DNO))
            continue
        out.append(
            NotificationOption(
                attribute=attribute,
                values=tuple(v for v in values if v is not None),
                required=parts[0].lower() == "required",
            )
        )
    return tuple(out)


def parse_original_recipient(value: str, problems: list[Defect]) -> AddressField | None:
    """RFC 8098 §2.3 ``Original-Recipient`` header, read as the report field is.

    original-recipient-header =
              "Original-Recipient" ":" OWS address-type OWS
              ";" OWS generic-address OWS CRLF
    """
    found = Problems()
    try:
        field = parse_address_field(value, found, field="Original-Recipient")
    except ParseError as exc:  # over a bound: the header is ignored, and says so
        found.add_error(exc)
        field = None
    problems.extend(found.defects())
    return field


# ---------------------------------------------------------------------------
# Shared helpers (also used by mdnkit.respond)


def split_mailboxes(value: str) -> list[tuple[str, str]]:
    """Split an RFC 5322 ``mailbox-list`` into ``(display name, addr-spec)``.

        mailbox-list = (mailbox *("," mailbox))
        mailbox      = name-addr / addr-spec
        name-addr    = [display-name] angle-addr

    Commas inside quotes, comments and angle brackets do not split.  Items
    without an address are dropped; names stay RFC 2047 encoded and
    unquoted.  Linear in the length of *value*.
    """
    out = []
    for raw in _split_top(value, ","):
        item = raw.strip()
        if not item:
            continue
        spec = _address.addr_spec(item)
        if spec is None:
            out.append(("", _strip_comments(item).strip()))
            continue
        name = ""
        if "<" in item:
            name = _strip_comments(item[: item.rfind("<")]).strip()
            if len(name) >= 2 and name[0] == name[-1] == '"':
                name = re.sub(r"\\(.)", r"\1", name[1:-1])
        out.append((name, spec))
    return out


def _split_top(value: str, sep: str) -> list[str]:
    """Split *value* at *sep* outside quoted strings, comments and <...>."""
    parts: list[str] = []
    start = 0
    depth = 0
    quoted = False
    angle = False
    i = 0
    while i < len(value):
        c = value[i]
        if c == "\\" and (quoted or depth):
            i += 2
            continue
        if quoted:
            quoted = c != '"'
        elif c == '"' and not depth:
            quoted = True
        elif c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif depth:
            pass
        elif c == "<":
            angle = True
        elif c == ">":
            angle = False
        elif c == sep and not angle:
            parts.append(value[start:i])
            start = i + 1
        i += 1
    parts.append(value[start:])
    return parts


def _strip_comments(text: str) -> str:
    """*text* without RFC 5322 (comments), which may nest; quotes respected."""
    return strip_comments(text)[0]


def _unword(text: str) -> str | None:
    """RFC 5322 ``word`` (atom / quoted-string) to its value, or None."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    # RFC 5322 atext: values like "pkcs7-signature" and "sha-256" are atoms.
    return text if _ATOM.match(text) else None


def _word(value: str) -> str:
    if _ATOM.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _decode_words(name: str) -> str:
    """RFC 2047-decode a display name; undecodable text stays as written."""
    if "=?" not in name:
        return name
    try:
        return str(email.header.make_header(email.header.decode_header(name)))
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        return name


def _check_text(value: str, what: str) -> None:
    """Refuse what could end a header line or smuggle an encoded word."""
    bad = next((c for c in value if c in _BREAKS), None)
    if bad is not None:
        raise RequestError(f"{what}: line breaks and NUL are not allowed ({bad!r} in {value!r})")
    if _ENCODED_WORD.search(value):
        raise RequestError(f"{what}: RFC 2047 encoded words are not allowed in {value!r}")


def _check_mailbox(name: str, address: str, what: str) -> None:
    for c in name + address:
        if c in _BREAKS or ord(c) < 32 or ord(c) == 127:
            raise RequestError(
                f"{what}: control characters are not allowed in {name!r} {address!r}"
            )
    if _ENCODED_WORD.search(address):
        raise RequestError(f"{what}: RFC 2047 encoded words are not allowed in {address!r}")
    if not _address.is_valid_mailbox(address):
        raise RequestError(f"{what}: not a valid mailbox address: {address!r}")


class _Verbatim(str):
    """A header or report field written exactly as built, whatever the policy.

    The stdlib's default policy reads unknown headers as unstructured text
    and re-encodes them when it writes: a display name ``",¡"`` comes out
    with a bare comma that splits the mailbox list.  A report field must
    keep its form too (RFC 8098 §3.1.1: no encoded words outside comments).  Non-ASCII text (RFC 6533) is held the way the
    stdlib holds 8-bit header bytes (UTF-8 as surrogate escapes), so every
    policy, compat32 included, writes it as raw UTF-8, which the 8bit
    transfer encoding of the global form allows.
    """

    name: str
    text: str

    def __new__(cls, name: str, value: str) -> _Verbatim:
        held = value if value.isascii() else value.encode().decode("ascii", "surrogateescape")
        obj = super().__new__(cls, held)
        obj.name = name
        obj.text = value
        return obj

    def __reduce__(self) -> tuple[object, ...]:  # copy and pickle: rebuild from the text
        return (_Verbatim, (self.name, self.text))

    def fold(self, *, policy: email.policy.Policy) -> str:
        text = policy.linesep.join(_fold_words(f"{self.name}: {self}")) + policy.linesep
        if getattr(policy, "utf8", False) and not text.isascii():
            return text.encode("ascii", "surrogateescape").decode("utf-8")
        return text


def _fold_words(line: str, width: int = 78) -> list[str]:
    """Fold at spaces so that lines stay under *width* where possible (RFC 5322 §2.2.3)."""
    if len(line) <= width:
        return [line]
    out: list[str] = []
    current = ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = " " + word
        else:
            current = f"{current} {word}" if current else word
    out.append(current)
    return out


def _set_header(msg: email.message.Message, name: str, value: str) -> None:
    if isinstance(msg.policy, email.policy.EmailPolicy):
        msg[name] = _Verbatim(name, value)
    else:
        msg[name] = value


def _format_mailbox(name: str, address: str) -> str:
    """``Name <addr>`` with the name quoted or RFC 2047-encoded as needed."""
    return email.utils.formataddr((name, address), charset="utf-8") if name else address


def _header_texts(
    msg: email.message.Message, name: str, problems: list[Defect] | None = None
) -> list[str]:
    """Every value of *name*, unfolded and bounded, as written (not decoded)."""
    key = name.lower()
    out: list[str] = []
    for field, value in msg.raw_items():
        if field.lower() != key:
            continue
        if len(out) == MAX_REQUEST_FIELDS:
            # Each value costs a scan; RFC 8098 §2.1 allows one DNT field.
            if problems is not None:
                problems.append(
                    Defect(
                        "too-many-fields",
                        f"more than {MAX_REQUEST_FIELDS} {name} fields; the rest were not read",
                        name,
                    )
                )
            break
        text = str(value)
        if any("\udc80" <= c <= "\udcff" for c in text):
            # Raw 8-bit header bytes kept by the parser as surrogates (RFC 6532 UTF-8).
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        text = re.sub(r"\r?\n(?=[ \t])", "", text)
        if len(text) > MAX_REQUEST_HEADER:
            # Cut between list items where there is a comma, not inside an address.
            cut = text.rfind(",", 0, MAX_REQUEST_HEADER)
            text = text[: cut if cut > 0 else MAX_REQUEST_HEADER]
            if problems is not None:
                problems.append(
                    Defect(
                        "field-too-long",
                        f"longer than {MAX_REQUEST_HEADER} characters; the rest was not read",
                        name,
                    )
                )
        out.append(text.strip())
    return out


def _header_text(msg: email.message.Message, name: str) -> str | None:
    values = _header_texts(msg, name)
    return values[0] if values else None
