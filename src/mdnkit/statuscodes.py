"""Enhanced mail system status codes (RFC 3463) and the DSN ``Status`` field.

A DSN says what happened to each recipient with a three-part code:
``class "." subject "." detail`` (RFC 3463 §2).  The class says how bad
(success, try again later, give up), the subject which part of the mail
system is concerned, the detail what exactly went wrong.

:data:`CLASSES`, :data:`SUBJECTS` and :data:`REGISTRY` hold the registered
meanings: RFC 3463 §2 and §3.1-§3.8, and the later additions of the IANA
"Enumerated Status Codes" registry, each entry naming the RFC it comes
from.  A code that is not registered is still a valid code: the parser
accepts any 1-3 digit subject and detail, and :func:`describe` falls back
to the meaning of the subject, then of the class.

>>> describe("5.1.1")
'Permanent failure: Bad destination mailbox address'
>>> describe("4.4.7")
'Persistent transient failure: Delivery time expired'
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from types import MappingProxyType

from ._defects import Problems
from ._grammar import strip_comments
from .limits import DEFAULT_LIMITS, Limits
from .model import StatusCode, _status_code

__all__ = [
    "CLASSES",
    "REGISTRY",
    "SUBJECTS",
    "Detail",
    "describe",
    "parse_status",
]

# RFC 3463 §2: the class sub-code.  Only these three exist; RFC 3464 §2.3.4
# repeats them for the DSN Status field.
CLASSES: Mapping[int, str] = MappingProxyType(
    {
        2: "Success",
        4: "Persistent transient failure",
        5: "Permanent failure",
    }
)

# RFC 3463 §2: the subject sub-code (X.0.XXX ... X.7.XXX).
SUBJECTS: Mapping[int, str] = MappingProxyType(
    {
        0: "Other or undefined status",
        1: "Addressing status",
        2: "Mailbox status",
        3: "Mail system status",
        4: "Network and routing status",
        5: "Mail delivery protocol status",
        6: "Message content or media status",
        7: "Security or policy status",
    }
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Detail:
    """One registered ``X.subject.detail`` code, with the RFC that defines it."""

    subject: int
    detail: int
    title: str
    reference: str

    @property
    def code(self) -> str:
        """The code with its class left open: ``"X.1.1"``."""
        return f"X.{self.subject}.{self.detail}"


def _table(reference: str, subject: int, titles: Mapping[int, str]) -> list[Detail]:
    return [
        Detail(subject=subject, detail=detail, title=title, reference=reference)
        for detail, title in titles.items()
    ]


_DETAILS: list[Detail] = [
    # RFC 3463 §3.1: Other or undefined status.
    *_table("RFC 3463 §3.1", 0, {0: "Other undefined status"}),
    # RFC 3463 §3.2: Address status.
    *_table(
        "RFC 3463 §3.2",
        1,
        {
            0: "Other address status",
            1: "Bad destination mailbox address",
            2: "Bad destination system address",
            3: "Bad destination mailbox address syntax",
            4: "Destination mailbox address ambiguous",
            5: "Destination address valid",
            6: "Destination mailbox has moved, no forwarding address",
            7: "Bad sender's mailbox address syntax",
            8: "Bad sender's system address",
        },
    ),
    # RFC 3886 §3.3 (message tracking) and RFC 7505 §4.2 (null MX).
    *_table("RFC 3886", 1, {9: "Message relayed to non-compliant mailer"}),
    *_table("RFC 7505", 1, {10: "Recipient address has null MX"}),
    # RFC 3463 §3.3: Mailbox status.
    *_table(
        "RFC 3463 §3.3",
        2,
        {
            0: "Other or undefined mailbox status",
            1: "Mailbox disabled, not accepting messages",
            2: "Mailbox full",
            3: "Message length exceeds administrative limit",
            4: "Mailing list expansion problem",
        },
    ),
    # RFC 3463 §3.4: Mail system status.
    *_table(
        "RFC 3463 §3.4",
        3,
        {
            0: "Other or undefined mail system status",
            1: "Mail system full",
            2: "System not accepting network messages",
            3: "System not capable of selected features",
            4: "Message too big for system",
            5: "System incorrectly configured",
        },
    ),
    # RFC 6710 §6 (MT-PRIORITY).
    *_table("RFC 6710", 3, {6: "Requested priority was changed"}),
    # RFC 3463 §3.5: Network and routing status.
    *_table(
        "RFC 3463 §3.5",
        4,
        {
            0: "Other or undefined network or routing status",
            1: "No answer from host",
            2: "Bad connection",
            3: "Directory server failure",
            4: "Unable to route",
            5: "Mail system congestion",
            6: "Routing loop detected",
            7: "Delivery time expired",
        },
    ),
    # RFC 3463 §3.6: Mail delivery protocol status.
    *_table(
        "RFC 3463 §3.6",
        5,
        {
            0: "Other or undefined protocol status",
            1: "Invalid command",
            2: "Syntax error",
            3: "Too many recipients",
            4: "Invalid command arguments",
            5: "Wrong protocol version",
        },
    ),
    # RFC 4954 §6 (SMTP AUTH).
    *_table("RFC 4954", 5, {6: "Authentication exchange line is too long"}),
    # RFC 3463 §3.7: Message content or media status.
    *_table(
        "RFC 3463 §3.7",
        6,
        {
            0: "Other or undefined media error",
            1: "Media not supported",
            2: "Conversion required and prohibited",
            3: "Conversion required but not supported",
            4: "Conversion with loss performed",
            5: "Conversion failed",
        },
    ),
    # RFC 4468 §5 (BURL) and RFC 6531 §3.7.5 (SMTPUTF8).
    *_table("RFC 4468", 6, {6: "Message content not available"}),
    *_table(
        "RFC 6531",
        6,
        {
            7: "Non-ASCII addresses not permitted for that sender/recipient",
            8: "UTF-8 string reply is required, but not permitted by the SMTP client",
            9: "UTF-8 header message cannot be transferred to one or more recipients",
        },
    ),
    # RFC 3463 §3.8: Security or policy status.
    *_table(
        "RFC 3463 §3.8",
        7,
        {
            0: "Other or undefined security status",
            1: "Delivery not authorized, message refused",
            2: "Mailing list expansion prohibited",
            3: "Security conversion required but not possible",
            4: "Security features not supported",
            5: "Cryptographic failure",
            6: "Cryptographic algorithm not supported",
            7: "Message integrity failure",
        },
    ),
    # RFC 4954 §6 and RFC 5248 §2.4 (authentication and encryption).
    *_table(
        "RFC 4954",
        7,
        {
            8: "Authentication credentials invalid",
            9: "Authentication mechanism is too weak",
            11: "Encryption required for requested authentication mechanism",
            12: "A password transition is needed",
        },
    ),
    *_table(
        "RFC 5248",
        7,
        {
            10: "Encryption needed",
            13: "User account disabled",
            14: "Trust relationship required",
        },
    ),
    # RFC 6710 §6 (MT-PRIORITY).
    *_table(
        "RFC 6710",
        7,
        {
            15: "Priority level is too low",
            16: "Message is too big for the specified priority",
        },
    ),
    # RFC 7293 §8 (Require-Recipient-Valid-Since).
    *_table(
        "RFC 7293",
        7,
        {
            17: "Mailbox owner has changed",
            18: "Domain owner has changed",
            19: "RRVS test cannot be completed",
        },
    ),
    # RFC 7372 §3 (email authentication status codes); 5.7.26 is what
    # Gmail answers for unauthenticated bulk mail.
    *_table(
        "RFC 7372",
        7,
        {
            20: "No passing DKIM signature found",
            21: "No acceptable DKIM signature found",
            22: "No valid author-matched DKIM signature found",
            23: "SPF validation failed",
            24: "SPF validation error",
            25: "Reverse DNS validation failed",
            26: "Multiple authentication checks failed",
        },
    ),
    *_table("RFC 7505", 7, {27: "Sender address has null MX"}),
    *_table("RFC 8617", 7, {29: "ARC validation failure"}),
    *_table("RFC 8689", 7, {30: "REQUIRETLS support required"}),
]

REGISTRY: Mapping[str, Detail] = MappingProxyType({d.code: d for d in _DETAILS})
"""Every registered detail code, keyed ``"X.subject.detail"``."""

# RFC 3464 §2.3.4 / RFC 3463 §2:
#   status-code = DIGIT "." 1*3DIGIT "." 1*3DIGIT
# The sub-fields are matched with any number of digits so that a code that
# breaks the 3-digit bound is reported as such, not as "not a code at all".
_CODE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")
_MAX_SUBCODE_DIGITS = 3
# The code as RFC 3464 wants it: class 2, 4 or 5, no leading zeros.  The
# common case, checked first; everything else goes the long way.
_WELL_FORMED = re.compile(r"[245]\.(?:0|[1-9][0-9]{0,2})\.(?:0|[1-9][0-9]{0,2})")
# That code alone or with the one comment RFC 3464 §2.3.4 allows after it
# (no nested comment, no quoted-pair, nothing else): "5.1.1", "5.0.0
# (permanent failure)" (Sendmail, the RFC's own examples).  Read as the
# careful path reads it, with one match where strip_comments() steps
# through the comment (timeit, a Status field with a comment: 2.3 us
# against 7.2 us).
_PLAIN = re.compile(f"({_WELL_FORMED.pattern})" + r"(?:[ \t]*+\(([^()\\]*+)\))?+[ \t]*+\Z")


# Every registered code of each class, as the Status field of a DSN writes
# it ("5.1.1"), with its value: StatusCode is immutable, so one instance
# serves every report (a table, built once, not a memo of what was read).
_REGISTERED: Mapping[str, StatusCode] = MappingProxyType(
    {
        code: _status_code(code)
        for code in (f"{klass}.{d.subject}.{d.detail}" for klass in CLASSES for d in _DETAILS)
    }
)


def _split(code: str) -> tuple[int, int, int] | None:
    match = _CODE.fullmatch(code)
    if match is None or len(match.group(1)) != 1:
        return None
    if any(len(part) > _MAX_SUBCODE_DIGITS for part in match.groups()):
        return None
    klass, subject, detail = (int(part) for part in match.groups())
    return klass, subject, detail


def describe(code: str) -> str | None:
    """A sentence for a status code: its class, then the most precise meaning known.

    None when *code* is not an enhanced status code of class 2, 4 or 5.
    An unregistered detail falls back to its subject's meaning.

    >>> describe("2.1.5")
    'Success: Destination address valid'
    >>> describe("5.7.26")
    'Permanent failure: Multiple authentication checks failed'
    >>> describe("4.2.99")
    'Persistent transient failure: Mailbox status'
    >>> describe("553") is None
    True
    """
    parts = _split(code.strip())
    if parts is None or parts[0] not in CLASSES:
        return None
    klass, subject, detail = parts
    entry = REGISTRY.get(f"X.{subject}.{detail}")
    if entry is not None:
        return f"{CLASSES[klass]}: {entry.title}"
    if subject in SUBJECTS:
        return f"{CLASSES[klass]}: {SUBJECTS[subject]}"
    return CLASSES[klass]


def parse_status(
    value: str, problems: Problems, *, field: str = "Status", limits: Limits = DEFAULT_LIMITS
) -> StatusCode | None:
    """Read a DSN ``Status`` field value (RFC 3464 §2.3.4).

    ::

        status-field = "Status" ":" status-code
        status-code  = DIGIT "." 1*3DIGIT "." 1*3DIGIT
          ; White-space characters and comments are NOT allowed within
          ; a status-code, though a comment enclosed in parentheses
          ; MAY follow the last numeric sub-field of the status-code.
          ; Each numeric sub-field within the status-code MUST be
          ; expressed without leading zero digits.

    Only classes 2, 4 and 5 exist (RFC 3463 §2).  What real MTAs write
    instead is kept, with a defect, never dropped:

    - a trailing ``(comment)`` goes to :attr:`StatusCode.comment` (no defect:
      the RFC allows it); trailing words without parentheses too, with a
      ``status-trailing-text`` defect;
    - leading zeros (``5.01.1``) are removed, with a defect, since the code
      they spell is not in doubt;
    - anything else (an SMTP reply ``553 Too big``, class ``3``, a
      sub-field longer than 3 digits) gives ``StatusCode(valid=False)``
      holding the text verbatim, with a ``malformed-status`` defect.

    None only for an empty value.
    """
    return read_status(value, field, problems, limits)


def read_status(value: str, field: str, problems: Problems, limits: Limits) -> StatusCode | None:
    """:func:`parse_status` with positional arguments, for the DSN reader."""
    plain = _PLAIN.match(value)
    if plain is not None:
        # An empty comment, "()", is no comment, as below.
        return _status_code(plain[1], plain[2] or None)
    return _read_status(value, problems, field, limits)


def _read_status(value: str, problems: Problems, field: str, limits: Limits) -> StatusCode | None:
    """:func:`parse_status` for any value, recording every oddity."""
    text, comments = strip_comments(value, problems, field=field, limits=limits)
    text = text.strip()
    comment = " ".join(comments) or None
    if _WELL_FORMED.fullmatch(text):
        return _status_code(text, comment)
    if not text:
        problems.add(
            "empty-status", "The Status field is empty", field=field, source=value, position=0
        )
        return None
    head, _, tail = text.partition(" ")
    tail = tail.strip()
    parts = _split(head)
    if parts is None or parts[0] not in CLASSES:
        problems.add(
            "malformed-status",
            "Expected an enhanced status code such as 5.1.1 (RFC 3463 class 2, 4 or 5)",
            field=field,
            source=value,
            position=value.find(head),
        )
        return StatusCode(code=value.strip(), valid=False)
    code = ".".join(str(part) for part in parts)
    if code != head:
        problems.add(
            "status-leading-zero",
            f"Status sub-fields must not have leading zeros; read {head} as {code}",
            field=field,
            source=value,
            position=value.find(head),
        )
    if tail:
        problems.add(
            "status-trailing-text",
            "Text after the status code should be a (comment)",
            field=field,
            source=value,
            position=value.find(tail),
        )
        comment = value[value.find(tail) :].strip()
    return StatusCode(code=code, comment=comment)
