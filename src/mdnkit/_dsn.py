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
from typing import Any

from ._defects import Problems
from ._grammar import (
    _NO_FIELDS,
    FieldGroup,
    Reader,
    _shown,
    field_headers,
    read_address,
    read_date,
    read_groups,
    strip_comments,
    usual_plans,
)
from .errors import ParseError
from .limits import DEFAULT_LIMITS, Limits
from .model import (
    Diagnostic,
    DSNAction,
    DSNRecipient,
    StatusCode,
    _diagnostic,
    _dsn_recipient,
)
from .statuscodes import _REGISTERED as _REGISTERED_STATUS
from .statuscodes import read_status

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
    groups = read_groups(text, problems, limits)
    if not groups:
        problems.add(
            "empty-delivery-status",
            "The delivery-status part has no fields: no recipient can be read",
        )
        return {**_per_message_values(([], []), Problems(), limits), "recipients": (), "utf8": utf8}
    per_message, recipient_groups = _regroup(groups, problems, limits)
    values = _per_message_values(per_message, problems, limits)
    if not recipient_groups:
        problems.add(
            "no-recipients",
            "The delivery-status part has no per-recipient group (RFC 3464 §2.1 asks for one)",
        )
    values["recipients"] = tuple(
        [_recipient(group, problems, limits) for group in recipient_groups]
    )
    values["utf8"] = utf8
    return values


# ---------------------------------------------------------------------------
# Groups


def _regroup(
    groups: list[FieldGroup], problems: Problems, limits: Limits
) -> tuple[FieldGroup, list[FieldGroup]]:
    """Split the groups read at blank lines into per-message and per-recipient groups."""
    first, names = groups[0]
    split = (
        None
        if _PER_RECIPIENT.isdisjoint(names)  # the usual per-message group: one C-level test
        else next(i for i, name in enumerate(names) if name in _PER_RECIPIENT)
    )
    rest = groups[1:]
    if split is None:
        per_message = groups[0]
    else:
        per_message = (first[:split], names[:split])
        rest = [(first[split:], names[split:]), *rest]
        if split:
            name, _value, line = first[split]
            problems.add(
                "missing-blank-line",
                f"No blank line before the first per-recipient field ({name}, line {line})",
                field=name,
            )
        else:
            problems.add(
                "missing-per-message-fields",
                "The delivery-status part starts with per-recipient fields (RFC 3464 §2.1 "
                "asks for a per-message group first)",
            )
    recipients: list[FieldGroup] = []
    for group in rest:
        group_names = group[1]
        if group_names[0] in _NAMES_RECIPIENT and len(set(group_names)) == len(group_names):
            # The usual group, told by two C-level tests: it starts with its
            # recipient (so it continues no other) and has no field twice
            # (so it holds one recipient).
            recipients.append(group)
            if len(recipients) > limits.max_recipients:
                raise _too_many_recipients(limits)
            continue
        for part in _split_recipients(group, problems):
            if recipients and _continues(recipients[-1], part):
                # RFC 3464 Appendix E "Delayed DSN": a page break left blank
                # lines between Final-Recipient and Status/Action.
                name, _value, line = part[0][0]
                problems.add(
                    "split-recipient-group",
                    f"A blank line splits one recipient's fields ({name}, line "
                    f"{line}, has no Final-Recipient before it); read as one group",
                    field=name,
                )
                fields, field_names = recipients[-1]
                recipients[-1] = (fields + part[0], field_names + part[1])
                continue
            recipients.append(part)
            if len(recipients) > limits.max_recipients:
                raise _too_many_recipients(limits)
    return per_message, recipients


def _too_many_recipients(limits: Limits) -> ParseError:
    return ParseError(
        f"More than {limits.max_recipients} recipient groups in one DSN", code="limit-exceeded"
    )


_NAMES_RECIPIENT = frozenset({"final-recipient", "original-recipient"})


def _continues(previous: FieldGroup, group: FieldGroup) -> bool:
    """Whether *group* is the rest of the recipient in *previous*, cut off by a blank line.

    So when *group* names no recipient, brings per-recipient fields, and
    *previous* names a recipient and has none of the fields *group* brings.
    """
    if group[1][0] in _NAMES_RECIPIENT:
        return False  # the usual recipient group: no set built
    names = set(group[1])
    if names & _NAMES_RECIPIENT:
        return False
    brings = names & _PER_RECIPIENT
    if not brings:
        return False
    before = set(previous[1])
    return bool(before & _NAMES_RECIPIENT) and not brings & before


def _split_recipients(group: FieldGroup, problems: Problems) -> list[FieldGroup]:
    """One blank-line group, split where a recipient's field comes a second time."""
    fields, names = group
    if len(set(names)) == len(names):
        return [group]  # the usual group: no field comes twice
    starts = [name for name in names if name in _STARTS_AGAIN]
    if len(starts) == len(set(starts)):
        return [group]  # no field that starts a recipient comes twice
    parts: list[FieldGroup] = [([], [])]
    seen: set[str] = set()
    for field, key in zip(fields, names, strict=True):
        name, _value, line = field
        if key in _STARTS_AGAIN and key in seen:
            current, current_names = parts[-1]
            moved: FieldGroup = ([], [])
            # "Original-Recipient: a / Final-Recipient: a / ... / Original-
            # Recipient: b / Final-Recipient: b": the Original-Recipient just
            # before the second Final-Recipient belongs to the next recipient.
            # (Only when it is the sole Original-Recipient of the group so far.)
            if (
                key == "final-recipient"
                and current_names[-1] == "original-recipient"
                and "original-recipient" not in current_names[:-1]
            ):
                moved = ([current.pop()], [current_names.pop()])
            problems.add(
                "missing-blank-line",
                f"No blank line between two recipients ({name}, line {line})",
                field=name,
            )
            parts.append(moved)
            seen = set(moved[1])
        parts[-1][0].append(field)
        parts[-1][1].append(key)
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


def _per_message_values(group: FieldGroup, problems: Problems, limits: Limits) -> dict[str, Any]:
    fields, names = group
    values = _NO_PER_MESSAGE_VALUES.copy()
    extensions: list[tuple[str, str]] = []
    plan = _USUAL_PER_MESSAGE.get(tuple(names))
    if plan is not None:
        # A usual group (see usual_plans): Reporting-MTA there, no field twice.
        for (attr, read), (name, value, _line) in zip(plan, fields):  # noqa: B905 (as below)
            if read is None:
                extensions.append((name, value))
            else:
                values[attr] = read(value, name, problems, limits)
        values["extension_fields"] = field_headers(extensions)
        return values
    seen: set[str] = set()
    for (name, value, line), key in zip(fields, names):  # noqa: B905 (strict= costs a keyword call)
        reader = _PER_MESSAGE_READERS.get(key)
        if reader is None:
            extensions.append((name, value))
            continue
        if key in seen:
            _duplicate(name, line, problems)
            continue
        seen.add(key)
        attr, read = reader
        values[attr] = read(value, name, problems, limits)
    if "reporting-mta" not in seen:
        problems.add(
            "missing-reporting-mta",
            "No Reporting-MTA field (RFC 3464 §2.2.2 requires it)",
            field="Reporting-MTA",
        )
    values["extension_fields"] = field_headers(extensions)
    return values


def _envelope_id(value: str, name: str, problems: Problems, limits: Limits) -> str | None:
    """``original-envelope-id-field = "Original-Envelope-Id" ":" envelope-id``.

    RFC 3464 §2.2.1: the ``envelope-id`` is the RFC 3461 ENVID, and its
    xtext encoding is undone::

        xtext   = *( xchar / hexchar )
        hexchar = ASCII "+" immediately followed by two upper case
                  hexadecimal digits

    A ``+`` not followed by two upper-case hex digits stays as it is.
    """
    envelope_id = value.strip()
    if not envelope_id:
        problems.add("empty-envelope-id", "The Original-Envelope-Id field is empty", field=name)
        return None
    if "+" not in envelope_id:
        return envelope_id  # no hexchar to undo, none malformed
    decoded = _HEXCHAR.sub(lambda m: chr(int(m.group(1), 16)), envelope_id)
    bad = _BAD_HEXCHAR.search(value)
    if bad is not None:
        problems.add(
            "malformed-xtext",
            "A '+' in the envelope id is not followed by two upper-case hex digits "
            "(RFC 3461 §4); kept as written",
            field=name,
            source=value,
            position=bad.start(),
        )
    return decoded


# ---------------------------------------------------------------------------
# Per-recipient fields (RFC 3464 §2.3)


def _recipient(group: FieldGroup, problems: Problems, limits: Limits) -> DSNRecipient:
    fields, names = group
    # One dict of attributes, keyed as DSNRecipient's: an attribute present
    # (even None, for a value that did not read) means the field was seen.
    values: dict[str, Any] = {}
    plan = _USUAL_RECIPIENTS.get(tuple(names))
    if plan is not None:
        # A usual group: each field's reader known by its place, no field
        # twice, no extension field, every MUST field there and no
        # Will-Retry-Until: nothing for the loop below to look up or check.
        for (attr, read), (name, value, _line) in zip(plan, fields):  # noqa: B905 (as below)
            # No None reader here: the orders name known fields only.
            values[attr] = read(value, name, problems, limits)  # type: ignore[misc]
        return _dsn_recipient(values, _NO_FIELDS)
    extensions: list[tuple[str, str]] = []
    for (name, value, line), key in zip(fields, names):  # noqa: B905 (strict= costs a keyword call)
        reader = _RECIPIENT_READERS.get(key)
        if reader is None:
            if key in _PER_MESSAGE:
                problems.add(
                    "misplaced-field",
                    f"{name} describes the message but sits in a recipient group "
                    f"(line {line}); kept with the recipient's extension fields",
                    field=name,
                )
            extensions.append((name, value))
            continue
        attr, read = reader
        if attr in values:
            _duplicate(name, line, problems)
            continue
        values[attr] = read(value, name, problems, limits)
    recipient = _dsn_recipient(values, field_headers(extensions))
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


def _duplicate(name: str, line: int, problems: Problems) -> None:
    problems.add(
        "duplicate-field",
        f"{name} appears more than once in a group (line {line}); the first one is kept",
        field=name,
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
            f"{_shown(word)} is not an RFC 3464 action (failed, delayed, delivered, relayed, "
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
    return _read_diagnostic(value, field, problems, DEFAULT_LIMITS)


def _read_diagnostic(value: str, field: str, problems: Problems, limits: Limits) -> Diagnostic:
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
        return _diagnostic("", joined)
    return _diagnostic(kind.strip(), text.strip())


# ---------------------------------------------------------------------------
# Readers of the values, by lower-cased field name
#
# Each reader takes (value, field name, problems, limits); a table gives the
# attribute the field fills and its reader, so that a field costs one lookup.


def _status(value: str, name: str, problems: Problems, limits: Limits) -> StatusCode | None:
    """RFC 3464 §2.3.4, by :func:`~mdnkit.statuscodes.parse_status`."""
    # The usual "5.1.1": parse_status would find the same (the value is
    # stripped; one that is not fails this test and goes on).
    registered = _REGISTERED_STATUS.get(value)
    if registered is not None:
        return registered
    return read_status(value, name, problems, limits)


def _action(value: str, name: str, problems: Problems, limits: Limits) -> DSNAction | str | None:
    """RFC 3464 §2.3.3, by :func:`parse_action`."""
    # The usual single registered word needs none of parse_action's work.
    action = _ACTIONS.get(value.lower())
    if action is None:
        return parse_action(value, problems, field=name, limits=limits)
    return action


def _log_id(value: str, name: str, problems: Problems, limits: Limits) -> str | None:
    """``final-log-id-field = "Final-Log-ID" ":" *text`` (RFC 3464 §2.3.8), folds joined."""
    return " ".join(value.split()) or None


# RFC 3464 §2.2: the per-message fields read into DSN attributes.
_PER_MESSAGE_READERS: dict[str, tuple[str, Reader]] = {
    "original-envelope-id": ("original_envelope_id", _envelope_id),  # §2.2.1
    "reporting-mta": ("reporting_mta", read_address),  # §2.2.2
    "dsn-gateway": ("dsn_gateway", read_address),  # §2.2.3
    "received-from-mta": ("received_from_mta", read_address),  # §2.2.4
    "arrival-date": ("arrival_date", read_date),  # §2.2.5
}
# The orders in which MTAs write the per-message group: RFC 3464's own
# (that of _PER_MESSAGE_READERS: Sendmail, Exchange, Exim); Postfix's, with
# its queue id and sender.
_USUAL_PER_MESSAGE = usual_plans(
    _PER_MESSAGE_READERS,
    ("reporting-mta",),
    tuple(_PER_MESSAGE_READERS),
    ("reporting-mta", "x-postfix-queue-id", "x-postfix-sender", "arrival-date"),
)
# Every per-message attribute, None until its field is read.
_NO_PER_MESSAGE_VALUES = dict.fromkeys(attr for attr, _read in _PER_MESSAGE_READERS.values())

# RFC 3464 §2.3: the per-recipient fields read into DSNRecipient attributes;
# Localized-Diagnostic (RFC 6533 §4.1) may repeat and stays an extension.
_RECIPIENT_READERS: dict[str, tuple[str, Reader]] = {
    "original-recipient": ("original_recipient", read_address),  # §2.3.1
    "final-recipient": ("final_recipient", read_address),  # §2.3.2
    "action": ("action", _action),  # §2.3.3
    "status": ("status", _status),  # §2.3.4
    "remote-mta": ("remote_mta", read_address),  # §2.3.5
    "diagnostic-code": ("diagnostic_code", _read_diagnostic),  # §2.3.6
    "last-attempt-date": ("last_attempt_date", read_date),  # §2.3.7
    "final-log-id": ("final_log_id", _log_id),  # §2.3.8
    "will-retry-until": ("will_retry_until", read_date),  # §2.3.9
}
_MUST = frozenset(("final_recipient", "action", "status"))


# The orders in which MTAs write a recipient group (all the fields of
# RFC 3464 §2.3 but Will-Retry-Until, whose action needs a check):
# RFC 3464's own order (that of _RECIPIENT_READERS), which Sendmail
# follows; Postfix's (Final-Recipient first); Exim's (Action first).
_USUAL_RECIPIENTS = usual_plans(
    _RECIPIENT_READERS,
    ("final-recipient", "action", "status"),
    tuple(name for name in _RECIPIENT_READERS if name != "will-retry-until"),
    (
        "final-recipient",
        "original-recipient",
        "action",
        "status",
        "remote-mta",
        "diagnostic-code",
        "last-attempt-date",
    ),
    ("action", "final-recipient", "status", "remote-mta", "diagnostic-code"),
)
