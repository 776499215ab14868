"""The body of a ``message/delivery-status`` part (RFC 3464 §2.1-§2.3).

The MIME reader finds the part and decodes it to text; this module turns
that text into the DSN-specific values of :class:`mdnkit.model.DSN`.  The
same code reads ``message/global-delivery-status`` (RFC 6533 §4.1): its
grammar is the same, its values may hold UTF-8.

The RFC shape is one group of per-message fields, then one group per
recipient, each group preceded by a blank line::

    delivery-status-content = per-message-fields
                              1*( CRLF per-recipient-fields )

Real bounces bend this in every way; each bend below is a defect, never an
exception (only a resource bound raises):

- no blank line between the per-message group and the first recipient, or
  between two recipients (Exchange and older Sendmail): a group is split
  where a per-recipient field first appears, and again where a recipient's
  field appears a second time;
- no per-message group at all (SurfControl, McAfee gateways);
- per-recipient fields in any order (SIMS puts Action and Status first,
  Exim Action before Final-Recipient, the Direct Project Diagnostic-Code);
- a recipient group base64-encoded *inside* the part by a filtering relay,
  behind stray ``Content-Transfer-Encoding: base64`` and ``Content-length``
  lines (seen after Proofpoint and Exchange Online re-wrote a Postfix DSN);
- missing MUST fields (Reporting-MTA, Final-Recipient, Action, Status),
  unregistered actions (``failure``, ``deliverable``) and SMTP replies in
  the Status field.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any

from ._defects import Problems
from ._grammar import (
    Field,
    parse_address_field,
    parse_date,
    read_fields,
    strip_comments,
)
from .errors import ParseError
from .limits import DEFAULT_LIMITS, Limits
from .model import Diagnostic, DSNAction, DSNRecipient, Headers, StatusCode, _dsn_recipient
from .statuscodes import _WELL_FORMED as _STATUS
from .statuscodes import parse_status

# RFC 3464 §2.2: fields that describe the message (each at most once).
_PER_MESSAGE = frozenset(
    {"original-envelope-id", "reporting-mta", "dsn-gateway", "received-from-mta", "arrival-date"}
)
# RFC 3464 §2.3 and RFC 6533 §4.1 (Localized-Diagnostic, which may repeat).
_PER_RECIPIENT = frozenset(
    {
        "original-recipient",
        "final-recipient",
        "action",
        "status",
        "remote-mta",
        "diagnostic-code",
        "last-attempt-date",
        "final-log-id",
        "will-retry-until",
        "localized-diagnostic",
    }
)
# A second one of these in a group means a new recipient began without the
# blank line that should have separated them.
_STARTS_AGAIN = frozenset({"original-recipient", "final-recipient", "action", "status"})

# A relay that re-encoded the part left its own MIME headers in the body.
_STRAY_CTE = re.compile(r"content-transfer-encoding[ \t]*:[ \t]*base64[ \t]*", re.IGNORECASE)
# Cheap test before the line-by-line pass (any line end: CRLF, LF, bare CR).
_STRAY_CTE_ANYWHERE = re.compile(r"content-transfer-encoding[ \t]*:[ \t]*base64", re.IGNORECASE)
_STRAY_HEADER = re.compile(r"content-(?:length|type|transfer-encoding)[ \t]*:", re.IGNORECASE)
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/=]+")
# RFC 3461 §4: xtext = *( xchar / hexchar ), hexchar = "+" 2(%x30-39 / %x41-46)
_HEXCHAR = re.compile(r"\+([0-9A-F]{2})")
_BAD_HEXCHAR = re.compile(r"\+(?![0-9A-F]{2})")


def dsn_values(text: str, problems: Problems, limits: Limits, *, utf8: bool) -> dict[str, Any]:
    """Keyword arguments for the DSN-specific fields of :class:`~mdnkit.model.DSN`.

    *text* is the decoded body of the ``message/delivery-status`` part
    (``message/global-delivery-status`` when *utf8* is true).  Problems go
    to *problems*; going over ``limits.max_recipients`` raises
    :class:`~mdnkit.ParseError` with code ``limit-exceeded``.
    """
    if not utf8 and not text.isascii():
        # RFC 3464 §2.1: "'7bit' encoding is sufficient and MUST be used".
        problems.add(
            "non-ascii-delivery-status",
            "A message/delivery-status part must be 7-bit; non-ASCII text was read as is",
        )
    text = _decode_encoded_blocks(text, problems)
    groups = [group for group in read_fields(text, problems, limits) if group]
    if not groups:
        problems.add(
            "empty-delivery-status",
            "The delivery-status part has no fields: no recipient can be read",
        )
        return {**_per_message_values((), Problems(), limits), "recipients": (), "utf8": utf8}
    per_message, recipient_groups = _regroup(groups, problems, limits)
    values = _per_message_values(per_message, problems, limits)
    if not recipient_groups:
        problems.add(
            "no-recipients",
            "The delivery-status part has no per-recipient group (RFC 3464 §2.1 asks for one)",
        )
    values["recipients"] = tuple(_recipient(group, problems, limits) for group in recipient_groups)
    values["utf8"] = utf8
    return values


# ---------------------------------------------------------------------------
# Groups


def _regroup(
    groups: list[list[Field]], problems: Problems, limits: Limits
) -> tuple[list[Field], list[list[Field]]]:
    """Split the groups read at blank lines into per-message and per-recipient groups."""
    first = groups[0]
    names = [f.name.lower() for f in first]
    split = (
        None
        if _PER_RECIPIENT.isdisjoint(names)  # the usual per-message group: one C-level test
        else next(i for i, name in enumerate(names) if name in _PER_RECIPIENT)
    )
    rest = groups[1:]
    if split is None:
        per_message = first
    else:
        per_message = first[:split]
        rest = [first[split:], *rest]
        if per_message:
            problems.add(
                "missing-blank-line",
                f"No blank line before the first per-recipient field ({first[split].name}, "
                f"line {first[split].line})",
                field=first[split].name,
            )
        else:
            problems.add(
                "missing-per-message-fields",
                "The delivery-status part starts with per-recipient fields (RFC 3464 §2.1 "
                "asks for a per-message group first)",
            )
    recipients: list[list[Field]] = []
    for group in rest:
        for part in _split_recipients(group, problems):
            if recipients and _continues(recipients[-1], part):
                # RFC 3464 Appendix E "Delayed DSN": a page break left blank
                # lines between Final-Recipient and Status/Action.
                problems.add(
                    "split-recipient-group",
                    f"A blank line splits one recipient's fields ({part[0].name}, line "
                    f"{part[0].line}, has no Final-Recipient before it); read as one group",
                    field=part[0].name,
                )
                recipients[-1] = recipients[-1] + part
                continue
            recipients.append(part)
            if len(recipients) > limits.max_recipients:
                raise ParseError(
                    f"More than {limits.max_recipients} recipient groups in one DSN",
                    code="limit-exceeded",
                )
    return per_message, recipients


_NAMES_RECIPIENT = frozenset({"final-recipient", "original-recipient"})


def _continues(previous: list[Field], group: list[Field]) -> bool:
    """Whether *group* is the rest of the recipient in *previous*, cut off by a blank line.

    So when *group* names no recipient, brings per-recipient fields, and
    *previous* names a recipient and has none of the fields *group* brings.
    """
    if group[0].name.lower() in _NAMES_RECIPIENT:
        return False  # the usual recipient group: no set built
    names = {f.name.lower() for f in group}
    if names & _NAMES_RECIPIENT:
        return False
    brings = names & _PER_RECIPIENT
    if not brings:
        return False
    before = {f.name.lower() for f in previous}
    return bool(before & _NAMES_RECIPIENT) and not brings & before


def _split_recipients(group: list[Field], problems: Problems) -> list[list[Field]]:
    """One blank-line group, split where a recipient's field comes a second time."""
    starts = [key for f in group if (key := f.name.lower()) in _STARTS_AGAIN]
    if len(starts) == len(set(starts)):
        return [group]  # the usual group: no field that starts a recipient comes twice
    parts: list[list[Field]] = [[]]
    seen: set[str] = set()
    for field in group:
        key = field.name.lower()
        if key in _STARTS_AGAIN and key in seen:
            current = parts[-1]
            moved: list[Field] = []
            # "Original-Recipient: a / Final-Recipient: a / ... / Original-
            # Recipient: b / Final-Recipient: b": the Original-Recipient just
            # before the second Final-Recipient belongs to the next recipient.
            # (Only when it is the sole Original-Recipient of the group so far.)
            if (
                key == "final-recipient"
                and current[-1].name.lower() == "original-recipient"
                and all(f.name.lower() != "original-recipient" for f in current[:-1])
            ):
                moved = [current.pop()]
            problems.add(
                "missing-blank-line",
                f"No blank line between two recipients ({field.name}, line {field.line})",
                field=field.name,
            )
            parts.append(moved)
            seen = {f.name.lower() for f in moved}
        parts[-1].append(field)
        seen.add(key)
    return parts


def _decode_encoded_blocks(text: str, problems: Problems) -> str:
    """Undo a relay's base64 encoding of a group inside the part.

    The shape seen in real mail: the per-message fields, then stray
    ``Content-Transfer-Encoding: base64`` and ``Content-length: 712`` lines,
    a blank line, and the per-recipient group as base64 lines.
    """
    # A case-insensitive search tries every offset; in ASCII text a
    # lower-cased copy and a substring test rule out nearly every part
    # first (outside ASCII, IGNORECASE also matches "ſ" for "s").
    if text.isascii() and "content-transfer-encoding" not in text.lower():
        return text
    if _STRAY_CTE_ANYWHERE.search(text) is None:
        return text
    # Not str.splitlines(): U+2028 and friends may sit inside UTF-8 values.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _STRAY_CTE.fullmatch(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        # Drop this header line and its stray neighbours (Content-length...).
        while out and _STRAY_HEADER.match(out[-1]):
            out.pop()
        i += 1
        while i < len(lines) and _STRAY_HEADER.match(lines[i]):
            i += 1
        while i < len(lines) and not lines[i].strip():
            i += 1
        start = i
        while i < len(lines) and _BASE64_LINE.fullmatch(lines[i].strip()):
            i += 1
        blob = "".join(line.strip() for line in lines[start:i])
        try:
            decoded = base64.b64decode(blob, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            decoded = ""
        if not decoded.strip():
            problems.add(
                "undecodable-recipient-block",
                "A group announced as base64 inside the delivery-status part cannot be decoded",
            )
            continue
        problems.add(
            "encoded-recipient-block",
            "A group inside the delivery-status part was base64-encoded (by a relay); "
            "it was decoded and read",
        )
        out.append("")
        out.extend(decoded.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        out.append("")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# Per-message fields (RFC 3464 §2.2)


def _per_message_values(
    fields: Sequence[Field], problems: Problems, limits: Limits
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "original_envelope_id": None,
        "reporting_mta": None,
        "dsn_gateway": None,
        "received_from_mta": None,
        "arrival_date": None,
    }
    extensions: list[tuple[str, str]] = []
    seen: set[str] = set()
    for field in fields:
        key = field.name.lower()
        if key not in _PER_MESSAGE:
            extensions.append((field.name, field.value))
            continue
        if key in seen:
            _duplicate(field, problems)
            continue
        seen.add(key)
        attr = key.replace("-", "_")
        if key == "original-envelope-id":
            values[attr] = _envelope_id(field, problems)
        elif key == "arrival-date":
            values[attr] = parse_date(field.value, problems, field=field.name, limits=limits)
        else:
            values[attr] = parse_address_field(
                field.value, problems, field=field.name, limits=limits
            )
    if "reporting-mta" not in seen:
        problems.add(
            "missing-reporting-mta",
            "No Reporting-MTA field (RFC 3464 §2.2.2 requires it)",
            field="Reporting-MTA",
        )
    values["extension_fields"] = Headers._from_pairs(tuple(extensions))
    return values


def _envelope_id(field: Field, problems: Problems) -> str | None:
    """``original-envelope-id-field = "Original-Envelope-Id" ":" envelope-id``.

    RFC 3464 §2.2.1: the ``envelope-id`` is the RFC 3461 ENVID, and its
    xtext encoding is undone::

        xtext   = *( xchar / hexchar )
        hexchar = ASCII "+" immediately followed by two upper case
                  hexadecimal digits

    A ``+`` not followed by two upper-case hex digits stays as it is.
    """
    value = field.value.strip()
    if not value:
        problems.add(
            "empty-envelope-id", "The Original-Envelope-Id field is empty", field=field.name
        )
        return None
    if "+" not in value:
        return value  # no hexchar to undo, none malformed
    decoded = _HEXCHAR.sub(lambda m: chr(int(m.group(1), 16)), value)
    bad = _BAD_HEXCHAR.search(field.value)
    if bad is not None:
        problems.add(
            "malformed-xtext",
            "A '+' in the envelope id is not followed by two upper-case hex digits "
            "(RFC 3461 §4); kept as written",
            field=field.name,
            source=field.value,
            position=bad.start(),
        )
    return decoded


# ---------------------------------------------------------------------------
# Per-recipient fields (RFC 3464 §2.3)


# The per-recipient fields read into DSNRecipient attributes (RFC 3464 §2.3);
# Localized-Diagnostic (RFC 6533 §4.1) may repeat and stays an extension.
_RECIPIENT_ATTRS = {
    "original-recipient": "original_recipient",  # §2.3.1
    "final-recipient": "final_recipient",  # §2.3.2
    "action": "action",  # §2.3.3
    "status": "status",  # §2.3.4
    "remote-mta": "remote_mta",  # §2.3.5
    "diagnostic-code": "diagnostic_code",  # §2.3.6
    "last-attempt-date": "last_attempt_date",  # §2.3.7
    "final-log-id": "final_log_id",  # §2.3.8
    "will-retry-until": "will_retry_until",  # §2.3.9
}
_ADDRESS_ATTRS = frozenset(("original_recipient", "final_recipient", "remote_mta"))
_MUST = frozenset(("final_recipient", "action", "status"))


def _recipient(fields: Sequence[Field], problems: Problems, limits: Limits) -> DSNRecipient:
    # One dict of attributes, keyed as DSNRecipient's: an attribute present
    # (even None, for a value that did not read) means the field was seen.
    values: dict[str, Any] = {}
    extensions: list[tuple[str, str]] = []
    for field in fields:
        name, value, _line = field
        key = name.lower()
        attr = _RECIPIENT_ATTRS.get(key)
        if attr is None:
            if key in _PER_MESSAGE:
                problems.add(
                    "misplaced-field",
                    f"{name} describes the message but sits in a recipient group "
                    f"(line {field.line}); kept with the recipient's extension fields",
                    field=name,
                )
            extensions.append((name, value))
            continue
        if attr in values:
            _duplicate(field, problems)
            continue
        if attr in _ADDRESS_ATTRS:
            values[attr] = parse_address_field(value, problems, field=name, limits=limits)
        elif attr == "status":
            # The usual "5.1.1", no comment: parse_status would find the same.
            text = value.strip() if "(" not in value else ""
            if text and _STATUS.fullmatch(text):
                values[attr] = StatusCode(code=text)
            else:
                values[attr] = parse_status(value, problems, field=name, limits=limits)
        elif attr == "action":
            # The usual single registered word needs none of parse_action's work.
            action: DSNAction | str | None = _ACTIONS.get(value.lower())
            if action is None:
                action = parse_action(value, problems, field=name, limits=limits)
            values[attr] = action
        elif attr == "diagnostic_code":
            values[attr] = parse_diagnostic(value, problems, field=name)
        elif attr == "final_log_id":
            values[attr] = " ".join(value.split()) or None
        else:  # last-attempt-date, will-retry-until
            values[attr] = parse_date(value, problems, field=name, limits=limits)
    recipient = _dsn_recipient(values, Headers._from_pairs(tuple(extensions)))
    if not _MUST.issubset(values) or recipient.will_retry_until is not None:
        _check_recipient(recipient, values, problems)
    return recipient


def _check_recipient(recipient: DSNRecipient, seen: dict[str, Any], problems: Problems) -> None:
    """Defects for missing MUST fields and a Will-Retry-Until out of place.

    *seen* has the attribute names of the fields that were present.
    """
    who = recipient.address or "a recipient"
    if "final_recipient" not in seen:
        fallback = " (Original-Recipient used instead)" if recipient.original_recipient else ""
        problems.add(
            "missing-final-recipient",
            f"No Final-Recipient field for {who} (RFC 3464 §2.3.2 requires it){fallback}",
            field="Final-Recipient",
        )
    if "action" not in seen:
        problems.add(
            "missing-action",
            f"No Action field for {who} (RFC 3464 §2.3.3 requires it)",
            field="Action",
        )
    if "status" not in seen:
        problems.add(
            "missing-status",
            f"No Status field for {who} (RFC 3464 §2.3.4 requires it)",
            field="Status",
        )
    if recipient.will_retry_until is not None and recipient.action not in (
        DSNAction.DELAYED,
        None,
    ):
        problems.add(
            "will-retry-until-not-delayed",
            f"Will-Retry-Until in a '{recipient.action}' report for {who} "
            "(RFC 3464 §2.3.9: only for 'delayed')",
            field="Will-Retry-Until",
        )


def _duplicate(field: Field, problems: Problems) -> None:
    problems.add(
        "duplicate-field",
        f"{field.name} appears more than once in a group (line {field.line}); "
        "the first one is kept",
        field=field.name,
    )


_ACTIONS = {action.value: action for action in DSNAction}


def parse_action(
    value: str, problems: Problems, *, field: str = "Action", limits: Limits = DEFAULT_LIMITS
) -> DSNAction | str | None:
    """``action-field = "Action" ":" action-value`` (RFC 3464 §2.3.3).

    ::

        action-value = "failed" / "delayed" / "delivered" / "relayed" / "expanded"

    Case-insensitive (``Delayed``).  A trailing comment, as in TeamWARE's
    ``failed (Bad destination mailbox address)``, is dropped.  An
    unregistered word (``failure``, ``deliverable``) is kept lower-cased,
    with an ``unregistered-action`` defect; an empty value gives None.
    """
    text, _comments = strip_comments(value, problems, field=field, limits=limits)
    word = " ".join(text.split()).lower()
    if not word:
        problems.add("empty-action", "The Action field is empty", field=field, source=value)
        return None
    action = _ACTIONS.get(word)
    if action is None:
        problems.add(
            "unregistered-action",
            f"'{word}' is not an RFC 3464 action (failed, delayed, delivered, relayed, "
            "expanded); kept as written",
            field=field,
            source=value,
            position=value.lower().find(word),
        )
        return word
    return action


def parse_diagnostic(
    value: str, problems: Problems, *, field: str = "Diagnostic-Code"
) -> Diagnostic:
    """``diagnostic-code-field = "Diagnostic-Code" ":" diagnostic-type ";" *text``.

    RFC 3464 §2.3.6.  ``diagnostic-type`` is an atom in the RFC (``smtp``,
    ``X-Postfix``, ``X-Notes``), but X.400 gateways write free text such
    as ``Reason 1 (Unable-To-Transfer)``: the type is everything before the
    first ``;``, as written.  Folded lines of multi-line SMTP replies are
    joined, every run of white space read as one space.  No ``;`` at all
    gives an empty type, with a ``diagnostic-without-type`` defect.
    """
    # The field reader keeps the indentation of continuation lines; a reply
    # folded over several lines reads best with one space at each fold.
    joined = " ".join(value.split())
    kind, semicolon, text = joined.partition(";")
    if not semicolon:
        problems.add(
            "diagnostic-without-type",
            "Diagnostic-Code has no 'type;' before its text (RFC 3464 §2.3.6)",
            field=field,
            source=value,
            position=0,
        )
        return Diagnostic(type="", text=joined)
    return Diagnostic(type=kind.strip(), text=text.strip())
