"""Answering receipt requests: the RFC 8098 §2.1 policy, and building the MDN.

Two separate steps, on purpose:

1. :func:`decide` says whether an MDN may be sent for a received message
   (``send``), needs the user's consent first (``ask``) or must not be
   sent (``ignore``), with a reason a user interface can show.
2. :func:`make_mdn` builds the MDN (RFC 8098 §3).  It refuses what no
   policy could allow (no request, an MDN in answer to an MDN) but does
   not apply the policy: call :func:`decide` first.

Both are sans-IO.  Sending is the caller's: the envelope sender of an MDN
must be null (``MAIL FROM:<>``, RFC 8098 §3); :func:`mdn_envelope` gives
the arguments for :meth:`smtplib.SMTP.sendmail`.  After sending (or after
the user said no), set the IMAP ``$MDNSent`` keyword (RFC 3503) so that no
second MDN is ever sent for the message.
"""

from __future__ import annotations

import dataclasses
import email.message
import email.parser
import email.policy
import email.utils
import enum
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from . import _address, _ids, _mime
from ._defects import Problems
from ._message import message_bytes, read_headers, read_message
from .errors import ParseError, RequestError
from .limits import DEFAULT_LIMITS
from .model import ActionMode, AddressField, Disposition, DispositionType, SendingMode
from .request import (
    _ATOM,
    ReceiptRequest,
    _check_text,
    _decode_words,
    _format_mailbox,
    _header_text,
    _header_texts,
    _strip_comments,
    _Verbatim,
    new_msgid,
    receipt_request,
    split_mailboxes,
)

__all__ = [
    "MDN_ENVELOPE_SENDER",
    "Action",
    "Decision",
    "ReceiptPolicy",
    "decide",
    "make_mdn",
    "mdn_envelope",
]

# RFC 8098 §3: "The envelope sender address (i.e., SMTP MAIL FROM) of the
# MDN MUST be null (<>)".  smtplib spells the null reverse-path as "".
MDN_ENVELOPE_SENDER = ""

_MDN_TYPES = frozenset(
    {"message/disposition-notification", "message/global-disposition-notification"}
)
_MDN_REPORT_TYPES = frozenset({"disposition-notification", "global-disposition-notification"})
# RFC 2076 / RFC 3834 §3.1.8: Precedence values lists and bulk mailers set.
_LIST_PRECEDENCE = frozenset({"bulk", "list", "junk"})
# RFC 8098 §3.2.6.2: the only types a conforming MUA generates.
_GENERATED_TYPES = (
    DispositionType.DISPLAYED,
    DispositionType.DELETED,
    DispositionType.DISPATCHED,
    DispositionType.PROCESSED,
)
_SUBJECT_PREFIX = {
    DispositionType.DISPLAYED: "Read",
    DispositionType.DELETED: "Deleted",
    DispositionType.DISPATCHED: "Dispatched",
    DispositionType.PROCESSED: "Processed",
}
# What each type says, and no more (RFC 8098 §6.3: a receipt is no proof of reading).
_TYPE_TEXT = {
    DispositionType.DISPLAYED: (
        "has been displayed. This is no guarantee that it has been read or understood."
    ),
    DispositionType.DELETED: ("has been deleted. It may or may not have been displayed first."),
    DispositionType.DISPATCHED: (
        "has been printed, faxed or forwarded, without necessarily being displayed."
    ),
    DispositionType.PROCESSED: (
        "has been processed by the recipient's software without being displayed."
    ),
}
_MSGID = re.compile(r"<[^<>\s]+>")
# RFC 5322 §3.6.4 without the angle brackets, as written here:
#   id-left "@" id-right;  id-left = dot-atom-text;
#   id-right = dot-atom-text / no-fold-literal ("[" *dtext "]")
_DOT_ATOM_TEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_MSG_ID_TEXT = re.compile(rf"{_DOT_ATOM_TEXT}@(?:{_DOT_ATOM_TEXT}|\[[!-Z^-~]*\])")
_MAX_SUBJECT = 998 - len("Subject: ")
# The standard library's header folder (Python 3.11 to 3.13) writes an
# empty line, which ends the header block, when a quoted display name holds
# a word longer than a line: a stranger's Disposition-Notification-To name
# of 'a' * 100 + '; ' + 'b' * 100 turned the rest of the MDN's header into
# body.  A name of at most this many characters has no such word.
_MAX_NAME = 64


class Action(enum.StrEnum):
    """What to do about a receipt request."""

    SEND = "send"  # send the MDN without asking
    ASK = "ask"  # ask the user; send only if they agree
    IGNORE = "ignore"  # send nothing (always allowed, RFC 8098 §2.1)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The answer of :func:`decide`: an action, a sentence, a stable code.

    ``reason`` is for people (show it next to the "Send receipt?" prompt);
    ``code`` is for programs (``"return-path-differs"``, ``"mdn-sent"``, …);
    ``request`` is what the message asked for, when it asked.
    """

    action: Action
    reason: str
    code: str
    request: ReceiptRequest | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptPolicy:
    """The user's receipt preferences (RFC 8098 §2.1 consent).

    - ``auto_send``: the user consented in advance; send without asking
      where RFC 8098 allows it.  Default False: ask (the RFC's advice).
    - ``interactive``: False for a server or batch job that cannot ask;
      every "ask" then becomes "ignore" (§2.1: no consent, no MDN).
    - ``not_to_me``, ``outside_domains``, ``from_list``: the action for a
      message not addressed to me in To/Cc, from a sender outside
      ``my_domains`` (default: the domains of ``me``), from a mailing list
      or an automatic sender.  The same three choices as Thunderbird's and
      KMail's receipt settings.
    - ``understood_options``: ``Disposition-Notification-Options``
      attributes this client implements (§2.2 ``required`` ones must be).
    """

    auto_send: bool = False
    interactive: bool = True
    not_to_me: Action = Action.ASK
    outside_domains: Action = Action.ASK
    from_list: Action = Action.IGNORE
    my_domains: tuple[str, ...] = ()
    understood_options: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("not_to_me", "outside_domains", "from_list"):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, Action(str(value).lower()))
            except ValueError:
                raise RequestError(
                    f"{name} must be 'send', 'ask' or 'ignore', not {value!r}"
                ) from None
        domains = _strings(self.my_domains, "my_domains")
        object.__setattr__(
            self, "my_domains", tuple(d.strip().lower().rstrip(".") for d in domains)
        )
        options = _strings(self.understood_options, "understood_options")
        object.__setattr__(self, "understood_options", frozenset(o.lower() for o in options))


def _strings(value: object, what: str) -> list[str]:
    # A bare str would be read as a set of one-letter names.
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise RequestError(f"{what} must be a collection of str, not {value!r}")
    items = list(value)
    if not all(isinstance(v, str) for v in items):
        raise RequestError(f"{what} must be a collection of str, not {value!r}")
    return items


# ---------------------------------------------------------------------------
# Policy


def decide(
    msg: email.message.Message | bytes | str,
    *,
    me: str | Iterable[str],
    policy: ReceiptPolicy | None = None,
    flags: Iterable[str | bytes] = (),
) -> Decision:
    """Whether an MDN may be sent for *msg*, per RFC 8098 §2.1 and *policy*.

    *me* is my address (or addresses); *flags* the message's IMAP flags
    (``imaplib.ParseFlags`` output works).  Rules, strongest first:

    - ignore: no request; the message is itself an MDN (§2.1 "An MDN MUST
      NOT be generated in response to an MDN"); ``$MDNSent`` is set or the
      message is a ``\\Draft`` (RFC 3503 §3.1); a news article (§2.1); a
      choice of *policy* that says ignore.
    - ask: the DNT address differs from the Return-Path, there is no
      Return-Path or several, several distinct addresses ask (§2.1 "MUST
      NOT be sent automatically"); a ``required`` option this client does
      not understand (§2.2); a choice of *policy* that says ask.
    - send: a choice of *policy* says send, or ``auto_send``; else ask.

    A non-interactive client turns every "ask" into "ignore".
    """
    policy = ReceiptPolicy() if policy is None else policy
    if not isinstance(policy, ReceiptPolicy):
        raise RequestError(f"policy must be a ReceiptPolicy, not {type(policy).__name__}")
    mine = _my_addresses(me)
    flag_set = _flags(flags)
    if isinstance(msg, email.message.Message):
        full = msg
        is_mdn = _is_mdn(msg)
    else:
        # A stranger's raw message: only its headers are needed, and whether
        # it carries an MDN, which the bounded MIME reader tells without
        # building the whole tree (the standard library took 900 MB and
        # minutes for a 60 MB message).
        data = message_bytes(msg)
        full = read_headers(data)
        is_mdn = _bytes_carry_mdn(data)
    request = receipt_request(full)

    def ignore(code: str, reason: str) -> Decision:
        return Decision(action=Action.IGNORE, reason=reason, code=code, request=request)

    if request is None:
        return ignore("no-request", "The message does not ask for a receipt.")
    if not request.addresses:
        if request.legacy:
            return ignore(
                "legacy-request",
                "The message asks for a receipt only with an old non-standard header"
                " (Return-Receipt-To); RFC 8098 requests use Disposition-Notification-To.",
            )
        return ignore(
            "no-valid-address", "The receipt request names no valid address to answer to."
        )
    if is_mdn:
        return ignore("is-mdn", "The message is itself a receipt; receipts are never answered.")
    if "$mdnsent" in flag_set:
        return ignore("mdn-sent", "A receipt was already sent (or refused) for this message.")
    if "\\draft" in flag_set:
        return ignore("draft", "The message is a draft.")
    if _header_text(full, "Newsgroups") is not None:
        return ignore(
            "newsgroup", "The message was posted to a newsgroup; receipts are not sent for news."
        )

    # Choices of the policy (Thunderbird / KMail style).
    choices: list[tuple[Action, str, str]] = []
    list_reason = _list_or_automatic(full)
    if list_reason is not None:
        choices.append((policy.from_list, "from-list", list_reason))
    if not _addressed_to(full, mine):
        choices.append((policy.not_to_me, "not-to-me", "I am not in the To or Cc of the message."))
    domains = policy.my_domains or tuple(sorted({a.rpartition("@")[2] for a in mine}))
    sender = _sender(full) or request.addresses[0]
    sender_domain = (_address.normalize(sender) or "").rpartition("@")[2]
    if not any(sender_domain == d or sender_domain.endswith("." + d) for d in domains):
        choices.append(
            (
                policy.outside_domains,
                "outside-domains",
                f"The sender ({sender}) is outside my domains.",
            )
        )

    def final(action: Action, code: str, reason: str) -> Decision:
        if action is Action.ASK and not policy.interactive:
            return ignore(
                code,
                f"{reason} Consent is needed but cannot be asked for here,"
                " so no receipt may be sent (RFC 8098 §2.1).",
            )
        return Decision(action=action, reason=reason, code=code, request=request)

    for action, code, reason in choices:
        if action is Action.IGNORE:
            return ignore(code, reason)

    # RFC 8098 §2.1 cases where consent is required even if given in advance.
    must_ask = _must_ask(request, policy)
    if must_ask is not None:
        return final(Action.ASK, *must_ask)
    for action, code, reason in choices:
        if action is Action.ASK:
            return final(action, code, reason)
    for action, code, reason in choices:
        if action is Action.SEND:
            return final(action, code, reason)
    if policy.auto_send:
        return final(Action.SEND, "consented", "The user agreed in advance to send receipts.")
    return final(
        Action.ASK,
        "consent-needed",
        f"The sender asks for a receipt to {', '.join(request.addresses)}.",
    )


def _must_ask(request: ReceiptRequest, policy: ReceiptPolicy) -> tuple[str, str] | None:
    not_understood = [a for a in request.required_options if a not in policy.understood_options]
    if not_understood:
        return (
            "required-option",
            f"The request needs options this program does not support: {', '.join(not_understood)}.",
        )
    distinct = {_address.normalize(a) for a in request.addresses}
    if len(distinct) > 1:
        return (
            "several-addresses",
            f"The receipt would go to several addresses: {', '.join(request.addresses)}.",
        )
    paths = {_address.normalize(p) if p else "" for p in request.return_path}
    if not paths:
        return ("no-return-path", "The message has no Return-Path to check the request against.")
    if len(paths) > 1:
        return ("several-return-paths", "The message has several different Return-Paths.")
    path = request.return_path[0]
    if not path or not _address.same_address(path, request.addresses[0]):
        shown = path or "<>"
        return (
            "return-path-differs",
            f"The receipt would go to {request.addresses[0]}, not to the sender ({shown}).",
        )
    return None


def _my_addresses(me: str | Iterable[str]) -> tuple[str, ...]:
    items = [me] if isinstance(me, str) else list(me)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise RequestError(f"me must be str addresses, not {type(item).__name__}")
        spec = _address.normalize(item)
        if spec is None:
            raise RequestError(f"me: not an address: {item!r}")
        out.append(spec.lower())
    if not out:
        raise RequestError("me is empty: give my address(es)")
    return tuple(out)


def _flags(flags: Iterable[str | bytes]) -> frozenset[str]:
    if isinstance(flags, str | bytes):
        flags = flags.split()
    out = set()
    for flag in flags:
        text = flag.decode("ascii", "replace") if isinstance(flag, bytes) else str(flag)
        # IMAP keywords and system flags are case-insensitive (RFC 3501 §2.3.2, RFC 3503 §5).
        out.add(text.strip("() ").lower())
    return frozenset(out)


def _addressed_to(msg: email.message.Message, mine: tuple[str, ...]) -> bool:
    # Local parts are compared case-insensitively here: this only decides
    # whether to ask, and users write their own address in any case.
    for field in ("To", "Cc"):
        for value in _header_texts(msg, field):
            for _, address in split_mailboxes(value):
                spec = _address.normalize(address)
                if spec is not None and spec.lower() in mine:
                    return True
    return False


def _sender(msg: email.message.Message) -> str | None:
    value = _header_text(msg, "From")
    if value is None:
        return None
    found = split_mailboxes(value)
    return found[0][1] if found and "@" in found[0][1] else None


def _list_or_automatic(msg: email.message.Message) -> str | None:
    if _header_text(msg, "List-Id") is not None:
        return "The message comes from a mailing list."
    precedence = _header_text(msg, "Precedence")
    if precedence is not None and _strip_comments(precedence).strip().lower() in _LIST_PRECEDENCE:
        return f"The message is bulk or list mail (Precedence: {precedence.strip()[:40]})."
    auto = _header_text(msg, "Auto-Submitted")
    if auto is not None:
        # RFC 3834 §5: auto-submitted = ("no" / "auto-generated" / "auto-replied" / ext) params
        keyword = _strip_comments(auto).split(";")[0].strip().lower()
        if keyword and keyword != "no":
            return f"The message was sent automatically (Auto-Submitted: {keyword[:40]})."
    return None


def _is_mdn(msg: email.message.Message) -> bool:
    """True when *msg* is an MDN, or carries one (AS2 wraps it in multipart/signed)."""
    stack = [(msg, 0)]
    seen = 0
    while stack and seen < DEFAULT_LIMITS.max_parts:
        part, depth = stack.pop()
        seen += 1
        ctype = part.get_content_type()
        if ctype in _MDN_TYPES:
            return True
        if ctype == "multipart/report":
            report_type = part.get_param("report-type")
            if isinstance(report_type, tuple):
                report_type = email.utils.collapse_rfc2231_value(report_type)
            if isinstance(report_type, str) and report_type.strip().lower() in _MDN_REPORT_TYPES:
                return True
        # An MDN forwarded as a message/rfc822 attachment does not make this one.
        if part.get_content_maintype() == "multipart" and depth < DEFAULT_LIMITS.max_depth:
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(
                    (p, depth + 1) for p in payload if isinstance(p, email.message.Message)
                )
    return False


def _bytes_carry_mdn(data: bytes) -> bool:
    """:func:`_is_mdn` for raw bytes, read with the bounded MIME reader.

    A message that breaks a bound is not taken for an MDN: decide then
    goes on to its other rules, none of which sends without consent.
    """
    problems = Problems()
    budget = _mime.Budget(DEFAULT_LIMITS)
    try:
        stack = [_mime.read_message(_mime.to_bytes(data, DEFAULT_LIMITS), problems, DEFAULT_LIMITS)]
        while stack:
            part = stack.pop()
            if part.content_type in _MDN_TYPES:
                return True
            if part.content_type == "multipart/report":
                report_type = part.params.get("report-type", "").strip().lower()
                if report_type in _MDN_REPORT_TYPES:
                    return True
            # An MDN forwarded as a message/rfc822 attachment does not make this one.
            if part.maintype == "multipart":
                stack.extend(_mime.children(part, problems, DEFAULT_LIMITS, budget))
    except ParseError:
        return False
    return False


# ---------------------------------------------------------------------------
# Building the MDN


def make_mdn(
    original: email.message.Message | bytes | str,
    *,
    disposition: Disposition | DispositionType | str,
    final_recipient: str,
    reporting_ua: str | None = None,
    include: str = "headers",
    text: str | None = None,
    original_recipient: str | None = None,
    error: str | Sequence[str] | None = None,
    now: datetime | None = None,
    message_id: str | None = None,
    subject: str | None = None,
    automatic: bool = False,
    extension_fields: Mapping[str, str] | None = None,
) -> email.message.EmailMessage:
    """Build the MDN for *original* (RFC 8098 §3), as an :class:`~email.message.EmailMessage`.

    - *disposition*: a :class:`~mdnkit.Disposition`, or just its type
      (``"displayed"``); then the mode is ``manual-action/MDN-sent-manually``
      (§3.2.6.1, the default for MUAs), or
      ``automatic-action/MDN-sent-automatically`` with ``automatic=True``.
    - *final_recipient*: the mailbox the MDN is for; it becomes ``From``
      and ``Final-Recipient`` (§3, §3.2.4).
    - *include*: ``"none"``, ``"headers"`` (text/rfc822-headers) or
      ``"full"`` (message/rfc822) for the third part.
    - *original_recipient*: overrides the ``Original-Recipient`` header of
      *original*; the field is written only when one of them exists (§3.2.3).
    - *now*: the clock (timezone-aware); default: the current UTC time.

    The MDN goes to the ``Disposition-Notification-To`` addresses, has a
    new Message-ID, ``In-Reply-To``/``References`` to the original, no
    request of its own, and ``Auto-Submitted: auto-replied`` when sent
    automatically (RFC 3834).  Non-ASCII fields switch the report part to
    ``message/global-disposition-notification`` (RFC 6533 §5); serialise
    such an MDN with ``as_bytes()``.

    Raises :class:`~mdnkit.RequestError` when *original* asks for no
    receipt, is itself an MDN, or any argument is unusable.  This does not
    apply the user's policy: call :func:`decide` first.
    """
    orig = read_message(original)
    request = receipt_request(orig)
    if request is None or not request.addresses:
        raise RequestError(
            "the original message has no usable Disposition-Notification-To: no MDN can be sent"
        )
    if _is_mdn(orig):
        raise RequestError("the original message is itself an MDN (RFC 8098 §2.1: never answer)")

    dispo = _disposition(disposition, automatic)
    name, address = _one_mailbox(final_recipient, "final_recipient")
    ua = _optional_text(reporting_ua, "reporting_ua")
    errors = _errors(error)
    if errors and "error" not in dispo.modifiers:
        # §3.2.7: Error fields go with the "error" modifier.
        dispo = dataclasses.replace(dispo, modifiers=(*dispo.modifiers, "error"))
    extensions = _extensions(extension_fields)
    if include not in ("none", "headers", "full"):
        raise RequestError(f"include must be 'none', 'headers' or 'full', not {include!r}")
    when = _now(now)
    orcpt = _original_recipient(original_recipient, request)

    final_type = "rfc822" if address.isascii() else "utf-8"
    utf8 = not all(
        v.isascii()
        for v in (address, ua or "", orcpt.address if orcpt else "", *errors, *extensions.values())
    )

    fields = email.message.MIMEPart()
    if ua is not None:
        fields["Reporting-UA"] = _Verbatim("Reporting-UA", ua)
    if orcpt is not None:
        fields["Original-Recipient"] = _Verbatim("Original-Recipient", str(orcpt))
    fields["Final-Recipient"] = _Verbatim("Final-Recipient", f"{final_type}; {address}")
    if request.message_id:
        fields["Original-Message-ID"] = _Verbatim("Original-Message-ID", f"<{request.message_id}>")
    fields["Disposition"] = _Verbatim("Disposition", str(dispo))
    for line in errors:
        fields["Error"] = _Verbatim("Error", line)
    for field_name, value in extensions.items():
        fields[field_name] = _Verbatim(field_name, value)

    mdn_policy = email.policy.default.clone(utf8=True) if not address.isascii() else None
    mdn = email.message.EmailMessage(
        policy=mdn_policy if mdn_policy is not None else email.policy.default
    )
    new_id = _message_id(message_id, address, request.message_id)
    mdn["Date"] = email.utils.format_datetime(when)
    mdn["From"] = (
        _format_mailbox(name, address) if address.isascii() else _utf8_mailbox(name, address)
    )
    mdn["To"] = ", ".join(
        _format_mailbox(_inert(_printable(n))[:_MAX_NAME].rstrip(), a)
        for n, a in zip(request.names, request.addresses, strict=True)
    )
    mdn["Subject"] = _subject(subject, orig, dispo)
    mdn["Message-ID"] = f"<{new_id}>"
    if request.message_id and _safe_id(request.message_id):
        # Written verbatim: the default policy reads these as unstructured
        # text and decodes an encoded word in a stranger's Message-ID
        # ("=?utf-8?b?DQpCY2M6...?=", RFC 2047 §5 forbids it there) into a
        # line break and a header field of the attacker's choosing.
        mdn["In-Reply-To"] = _Verbatim("In-Reply-To", f"<{request.message_id}>")
        mdn["References"] = _Verbatim("References", _references(orig, request.message_id))
    if dispo.sending_mode is SendingMode.AUTOMATIC:
        mdn["Auto-Submitted"] = "auto-replied"  # RFC 3834 §5

    human = email.message.MIMEPart()
    human.set_content(_human_text(text, orig, address, dispo))
    report = email.message.MIMEPart()
    report.set_content(
        fields,
        subtype="global-disposition-notification" if utf8 else "disposition-notification",
        cte="8bit" if utf8 else "7bit",
    )
    mdn["MIME-Version"] = "1.0"
    # RFC 6522 §3: report-type names the second part; RFC 6533 does not
    # rename it for the global form, and old readers only know this value.
    mdn["Content-Type"] = "multipart/report; report-type=disposition-notification"
    mdn.set_boundary(_boundary())
    parts: list[email.message.Message | str] = [human, report]
    if include != "none":
        parts.append(_returned_part(original, orig, include))
    mdn.set_payload(parts)
    return mdn


def mdn_envelope(mdn: email.message.Message) -> tuple[str, list[str]]:
    """``(from_addr, to_addrs)`` for :meth:`smtplib.SMTP.sendmail`: null sender, the To addresses.

    RFC 8098 §3: the MDN goes, in the header *and* the envelope, to the
    Disposition-Notification-To addresses, from the null reverse-path.
    """
    to_addrs = [a for value in _header_texts(mdn, "To") for _, a in split_mailboxes(value)]
    return MDN_ENVELOPE_SENDER, to_addrs


def _boundary() -> str:
    import secrets

    return "=_mdn_" + secrets.token_hex(12)


def _disposition(value: Disposition | DispositionType | str, automatic: bool) -> Disposition:
    if isinstance(value, Disposition):
        dispo = value
    elif isinstance(value, str):
        _check_text(value, "disposition")
        try:
            kind = DispositionType(value.strip().lower())
        except ValueError:
            raise RequestError(
                f"unknown disposition type {value!r}: use displayed, deleted, dispatched"
                " or processed"
            ) from None
        if automatic:
            modes = (ActionMode.AUTOMATIC, SendingMode.AUTOMATIC)
        else:
            modes = (ActionMode.MANUAL, SendingMode.MANUAL)
        dispo = Disposition(action_mode=modes[0], sending_mode=modes[1], type=kind)
    else:
        raise RequestError(f"disposition must be a Disposition or a type, not {value!r}")
    if dispo.type not in _GENERATED_TYPES:
        raise RequestError(
            f"RFC 8098 §3.2.6.2 defines displayed, deleted, dispatched and processed;"
            f" {str(dispo.type)!r} cannot be sent"
        )
    if not isinstance(dispo.action_mode, ActionMode) or not isinstance(
        dispo.sending_mode, SendingMode
    ):
        raise RequestError("disposition modes must be ActionMode and SendingMode values")
    for modifier in dispo.modifiers:
        if not isinstance(modifier, str) or not _ATOM.match(modifier):
            raise RequestError(f"disposition modifier must be an Atom (§3.2.6.3): {modifier!r}")
    return dispo


def _one_mailbox(value: str, what: str) -> tuple[str, str]:
    if not isinstance(value, str):
        raise RequestError(f"{what} must be a str, not {type(value).__name__}")
    _check_text(value, what)
    found = split_mailboxes(value)
    if len(found) != 1:
        raise RequestError(f"{what}: expected one mailbox, got {value!r}")
    name, address = found[0]
    _check_utf8_mailbox(address, what)
    if not all(c.isprintable() for c in name):
        raise RequestError(f"{what}: control characters are not allowed in {name!r}")
    return name, address


def _check_utf8_mailbox(address: str, what: str) -> None:
    """An addr-spec, ASCII (RFC 5321) or UTF-8 (RFC 6531: UTF-8 is atext too)."""
    if not all(c.isprintable() and not c.isspace() for c in address):
        raise RequestError(f"{what}: not a valid mailbox address: {address!r}")
    shape = re.sub(r"[^\x00-\x7f]", "a", address)
    if not _address.is_valid_mailbox(shape) or len(address.encode()) > 254:
        raise RequestError(f"{what}: not a valid mailbox address: {address!r}")


def _optional_text(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestError(f"{what} must be a str, not {type(value).__name__}")
    _check_text(value, what)
    if not all(c.isprintable() for c in value):
        raise RequestError(f"{what}: control characters are not allowed in {value!r}")
    value = value.strip()
    return value or None


def _errors(error: str | Sequence[str] | None) -> tuple[str, ...]:
    if error is None:
        return ()
    items = [error] if isinstance(error, str) else list(error)
    out = []
    for item in items:
        text = _optional_text(item, "error")
        if text is not None:
            out.append(text)
    return tuple(out)


_FIELD_NAME = re.compile(r"[!-9;-~]+\Z")  # RFC 5322 §3.6.8 ftext
_RESERVED = frozenset(
    {
        "reporting-ua",
        "mdn-gateway",
        "original-recipient",
        "final-recipient",
        "original-message-id",
        "disposition",
        "error",
        "failure",
        "warning",
    }
)


def _extensions(fields: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in (fields or {}).items():
        if not isinstance(name, str) or not _FIELD_NAME.match(name):
            raise RequestError(f"extension field name must be an RFC 5322 field-name: {name!r}")
        if name.lower() in _RESERVED:
            raise RequestError(f"{name!r} is an RFC 8098 field; use the matching argument")
        text = _optional_text(value, name)
        out[name] = text or ""
    return out


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise RequestError("now must be a timezone-aware datetime")
    return now


def _original_recipient(value: str | None, request: ReceiptRequest) -> AddressField | None:
    if value is None:
        orcpt: AddressField | None = request.original_recipient
        if orcpt is None:
            return None
        if not all(c.isprintable() for c in orcpt.address) or not _ATOM.match(orcpt.type):
            return None
        return orcpt
    text = _optional_text(value, "original_recipient")
    if text is None:
        raise RequestError("original_recipient is empty")
    kind, semi, address = text.partition(";")
    if not semi:
        kind, address = "rfc822", text
    kind, address = kind.strip().lower(), address.strip()
    if not _ATOM.match(kind) or not address:
        raise RequestError(f"original_recipient: expected 'type; address': {value!r}")
    if kind == "rfc822" and not address.isascii():
        kind = "utf-8"
    return AddressField(type=kind, address=address)


def _message_id(value: str | None, address: str, original_id: str | None) -> str:
    if value is None:
        return new_msgid(address.rpartition("@")[2])
    _check_text(value, "message_id")
    new_id = _ids.canonical(value) or ""
    if not _MSG_ID_TEXT.fullmatch(new_id):
        raise RequestError(f"message_id: not a msg-id: {value!r}")
    if original_id is not None and new_id == original_id:
        raise RequestError("message_id must differ from the original's (RFC 8098 §3)")
    return new_id


def _utf8_mailbox(name: str, address: str) -> str:
    """``"Name" <addr>`` for an RFC 6532 header (raw UTF-8, no encoded words)."""
    if not name:
        return address
    if not any(c in '()<>[]:;@\\,."' for c in name):
        return f"{name} <{address}>"
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + f'" <{address}>'


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else " " for c in text).strip()


def _inert(text: str) -> str:
    """*text* with no encoded word left for the email policy to decode.

    The default policy decodes RFC 2047 words in a value it is given; a
    stranger's word that _decode_words could not read ("=?utf-8?b?DQpC...?="
    next to raw 8-bit text) would come back as a line break and a header
    field of their choosing.  "= ?" reads the same to a person.
    """
    return text.replace("=?", "= ?")


def _subject(subject: str | None, orig: email.message.Message, dispo: Disposition) -> str:
    if subject is not None:
        text = _optional_text(subject, "subject")
        return text or ""
    original = _inert(_printable(_decode_words(_header_text(orig, "Subject") or "")))
    prefix = _SUBJECT_PREFIX[DispositionType(dispo.type)]
    return f"{prefix}: {original}"[:_MAX_SUBJECT] if original else prefix


def _safe_id(message_id: str) -> bool:
    """True for an id that can stand between '<' and '>' in a header line."""
    return all(c.isprintable() and not c.isspace() and c not in "<>" for c in message_id)


def _references(orig: email.message.Message, message_id: str) -> str:
    ids = _MSGID.findall(_header_text(orig, "References") or "")
    # RFC 5322 §3.6.4 allows trimming; ids with control characters are dropped.
    ids = [i for i in ids if i.isascii() and i.isprintable()][-20:]
    ids.append(f"<{message_id}>")
    return " ".join(ids)


def _human_text(
    text: str | None, orig: email.message.Message, address: str, dispo: Disposition
) -> str:
    if text is not None:
        if not isinstance(text, str) or "\x00" in text:
            raise RequestError("text must be a str without NUL characters")
        return text if text.endswith("\n") else text + "\n"
    date = _printable(_header_text(orig, "Date") or "") or "an unknown date"
    original_subject = _printable(_decode_words(_header_text(orig, "Subject") or ""))
    about = f'The message sent on {date} to {address} with subject "{original_subject}"'
    return textwrap.fill(f"{about} {_TYPE_TEXT[DispositionType(dispo.type)]}", 72) + "\n"


def _returned_part(
    original: email.message.Message | bytes | str, orig: email.message.Message, include: str
) -> email.message.MIMEPart:
    part = email.message.MIMEPart()
    if include == "full":
        part.set_content(orig)
        return part
    if isinstance(original, bytes | bytearray | memoryview | str):
        raw = bytes(original) if not isinstance(original, str) else original.encode()
    else:
        try:
            raw = original.as_bytes()
        except (ValueError, LookupError, TypeError, RecursionError) as exc:
            raise RequestError(f"the original message cannot be serialised: {exc}") from None
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    text = head.decode("utf-8", "replace").replace("\r\n", "\n") + "\n"
    part.set_content(text, subtype="rfc822-headers")
    return part
