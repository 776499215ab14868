"""The values mdnkit reads and builds: frozen, slotted dataclasses and str enums.

Everything here is plain data.  Parsing lives in :mod:`mdnkit.parser`,
event derivation in :mod:`mdnkit.events`; the model only knows how to show
itself (``str``, :meth:`Report.to_dict`, :meth:`MDN.to_jmap`).

Registered values are :class:`enum.StrEnum` members.  A value that is not
registered (``failure`` for a DSN action, an unknown disposition type)
survives as a plain ``str`` and the parser records a :class:`Defect`: a
receipt is never dropped because its sender invented a word.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from .events import Event

__all__ = [
    "DSN",
    "MDN",
    "ActionMode",
    "AddressField",
    "DSNAction",
    "DSNRecipient",
    "Defect",
    "Diagnostic",
    "Disposition",
    "DispositionType",
    "Headers",
    "MessageRef",
    "RefSource",
    "Report",
    "SendingMode",
    "StatusCode",
]


# ---------------------------------------------------------------------------
# Registered values (RFC 8098 §3.2.6, RFC 3464 §2.3.3)


class ActionMode(enum.StrEnum):
    """RFC 8098 §3.2.6.1: who caused the disposition."""

    MANUAL = "manual-action"  # explicit instruction of the user
    AUTOMATIC = "automatic-action"  # an MDA, a filter, a gateway: no user involved


class SendingMode(enum.StrEnum):
    """RFC 8098 §3.2.6.1: who allowed the MDN to be sent."""

    MANUAL = "MDN-sent-manually"  # the user explicitly permitted this MDN
    AUTOMATIC = "MDN-sent-automatically"  # sent without asking, by configuration


class DispositionType(enum.StrEnum):
    """RFC 8098 §3.2.6.2, plus the obsolete values still seen on the wire."""

    DISPLAYED = "displayed"  # §3.2.6.2: shown to someone; not proof of reading
    DELETED = "deleted"  # §3.2.6.2: deleted, possibly seen first
    DISPATCHED = "dispatched"  # §3.2.6.2: printed, faxed, forwarded without display
    PROCESSED = "processed"  # §3.2.6.2: handled by rules or a server, not displayed
    DENIED = "denied"  # RFC 2298 §3.2.6.2 only; removed by RFC 3798
    FAILED = "failed"  # RFC 2298 §3.2.6.2; still AS2's (RFC 4130 §7.4.3)

    @property
    def obsolete(self) -> bool:
        """True for values RFC 8098 no longer defines."""
        return self in (DispositionType.DENIED, DispositionType.FAILED)


class DSNAction(enum.StrEnum):
    """RFC 3464 §2.3.3: what the reporting MTA did for one recipient."""

    FAILED = "failed"  # could not be delivered; no further attempt
    DELAYED = "delayed"  # not yet delivered; the MTA keeps trying
    DELIVERED = "delivered"  # delivered to the recipient's mailbox
    RELAYED = "relayed"  # passed to a system that sends no DSNs
    EXPANDED = "expanded"  # delivered to a list or alias, then re-sent


class RefSource(enum.StrEnum):
    """How a report names the sent message it is about (strongest first)."""

    ORIGINAL_MESSAGE_ID = "original-message-id"  # RFC 8098 §3.2.5 field
    ATTACHED_ORIGINAL = "attached-original"  # Message-ID of the returned original (3rd part)
    IN_REPLY_TO = "in-reply-to"  # the report's own In-Reply-To header
    REFERENCES = "references"  # the last entry of the report's References header
    ENVELOPE_ID = "envelope-id"  # RFC 3464 Original-Envelope-Id (RFC 3461 ENVID)


# ---------------------------------------------------------------------------
# Small values


@dataclasses.dataclass(frozen=True, slots=True)
class Defect:
    """One problem found in a report that a lenient parse worked around.

    ``code`` is a stable machine-readable name (``missing-final-recipient``),
    ``message`` a sentence for people, ``field`` the report field or header
    it concerns, when there is one.
    """

    code: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.message}"


@dataclasses.dataclass(frozen=True, slots=True)
class AddressField:
    """``address-type ";" generic-address`` (RFC 8098 §3.2.3, RFC 3464 §2.3.1).

    ``type`` is lower-cased (address types are case-insensitive, §3.1.2);
    ``address`` keeps its case, as RFC 8098 §3.2.4 requires.  For the
    ``utf-8`` type of RFC 6533 the escapes are already decoded.
    """

    type: str
    address: str

    def __str__(self) -> str:
        return f"{self.type}; {self.address}"


@dataclasses.dataclass(frozen=True, slots=True)
class MessageRef:
    """Which sent message a report is about, and the evidence for it.

    ``message_id`` is normalised (no angle brackets, no white space).  When
    the only evidence is an envelope id (``by`` is
    :attr:`RefSource.ENVELOPE_ID`), ``message_id`` is None and
    ``envelope_id`` says what the sender chose with RFC 3461 ``ENVID``.
    """

    message_id: str | None
    by: RefSource
    envelope_id: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Disposition:
    """RFC 8098 §3.2.6 ``disposition-field``.

    ``type`` is a :class:`DispositionType` or, for an unregistered value,
    the lower-cased token.  ``modifiers`` keep their spelling lower-cased,
    RFC 4130's ``error: text`` form included (``"error: authentication-failed"``).
    ``str(d)`` is the field value, and ``parse_disposition(str(d)) == d``.
    """

    action_mode: ActionMode
    sending_mode: SendingMode
    type: DispositionType | str
    modifiers: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.action_mode}/{self.sending_mode}; {self.type}"
        if self.modifiers:
            text += "/" + ",".join(self.modifiers)
        return text

    @property
    def automatic(self) -> bool:
        """True when the MDN was sent without asking the user (RFC 8098 §3.2.6.1)."""
        return self.sending_mode is SendingMode.AUTOMATIC


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StatusCode:
    """An RFC 3463 enhanced status code: ``class "." subject "." detail``.

    ``code`` is the code as read (``"5.1.1"``).  When the field held
    something else (an SMTP reply such as ``"553 Too big"``), ``valid`` is
    False and ``code`` is that text verbatim, so nothing is lost.
    ``comment`` is a trailing ``(comment)`` some MTAs add.
    """

    code: str
    comment: str | None = None
    valid: bool = True

    def __str__(self) -> str:
        return self.code

    def _part(self, index: int) -> int | None:
        if not self.valid:
            return None
        return int(self.code.split(".")[index])

    @property
    def klass(self) -> int | None:
        """2 (success), 4 (persistent transient failure) or 5 (permanent failure)."""
        return self._part(0)

    @property
    def subject(self) -> int | None:
        return self._part(1)

    @property
    def detail(self) -> int | None:
        return self._part(2)

    @property
    def permanent(self) -> bool:
        return self.klass == 5

    @property
    def meaning(self) -> str | None:
        """The registered meaning of the code (RFC 3463 §3), or None."""
        from .statuscodes import describe

        return describe(self.code) if self.valid else None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """RFC 3464 §2.3.6 ``diagnostic-type ";" *text``, folded lines joined."""

    type: str
    text: str

    def __str__(self) -> str:
        return f"{self.type}; {self.text}"


class Headers(Sequence[tuple[str, str]]):
    """An immutable, ordered list of ``(name, value)`` header fields.

    Lookup by name is case-insensitive.  Values are unfolded but not
    decoded (RFC 2047 encoded words stay as they are).
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Sequence[tuple[str, str]] = ()) -> None:
        self._fields: tuple[tuple[str, str], ...] = tuple((str(n), str(v)) for n, v in fields)

    @classmethod
    def _from_pairs(cls, fields: tuple[tuple[str, str], ...]) -> Headers:
        """Internal: wrap *fields*, already a tuple of ``(str, str)`` pairs, unchecked.

        For the parser, which builds the pairs from text itself: it skips
        the per-field conversion of ``__init__`` (one per header read).
        """
        headers = cls.__new__(cls)
        headers._fields = fields
        return headers

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...
    @overload
    def __getitem__(self, index: slice) -> Headers: ...
    def __getitem__(self, index: int | slice) -> tuple[str, str] | Headers:
        if isinstance(index, slice):
            return Headers(self._fields[index])
        return self._fields[index]

    def __len__(self) -> int:
        return len(self._fields)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._fields == other._fields
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields)

    def __repr__(self) -> str:
        return f"Headers({list(self._fields)!r})"

    # A plain loop: header blocks hold tens of fields, too few for a chain
    # of map() objects to pay for its setup (measured twice as slow).
    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of *name*, or *default*."""
        wanted = name.lower()
        for field, value in self._fields:
            if field.lower() == wanted:
                return value
        return default

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of *name*, in order."""
        wanted = name.lower()
        return tuple([value for field, value in self._fields if field.lower() == wanted])


# ---------------------------------------------------------------------------
# Reports


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """What every report (MDN or DSN) has.

    The first group describes the report *message* itself (its Message-ID,
    Date, From, first human-readable part, returned original); the second
    is what the parser worked around.
    """

    message_ref: MessageRef | None = None
    message_id: str | None = None  # of the report, normalised
    date: datetime | None = None  # of the report, timezone-aware
    sender: str | None = None  # the report's From addr-spec
    subject: str | None = None  # decoded
    human_text: str | None = None  # first part, decoded
    original_headers: Headers | None = None  # headers of the returned original
    extension_fields: Headers = dataclasses.field(default_factory=Headers)
    defects: tuple[Defect, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: enums as strings, dates as ISO 8601, headers as pairs."""
        out: dict[str, Any] = {"kind": type(self).__name__.lower()}
        for f in dataclasses.fields(self):
            out[f.name] = _jsonable(getattr(self, f.name))
        return out

    def events(self, *, received_at: datetime | None = None) -> tuple[Event, ...]:
        """Per-recipient events this report stands for (see :mod:`mdnkit.events`)."""
        from .events import events_from_report

        return events_from_report(self, received_at=received_at)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MDN(Report):
    """A message disposition notification (read receipt), RFC 8098 §3.2."""

    reporting_ua: str | None = None  # §3.2.1, as written ("host; product")
    mdn_gateway: AddressField | None = None  # §3.2.2 (mta-name-type; mta-name)
    original_recipient: AddressField | None = None  # §3.2.3
    final_recipient: AddressField | None = None  # §3.2.4 (MUST; None when absent, with a defect)
    original_message_id: str | None = None  # §3.2.5, normalised
    disposition: Disposition | None = None  # §3.2.6 (MUST; None when absent or unreadable)
    errors: tuple[str, ...] = ()  # §3.2.7 Error fields (and obsolete Failure/Warning)
    received_content_mic: str | None = None  # RFC 4130 §7.4.3 (AS2)

    def to_jmap(self, *, for_email_id: str | None = None) -> dict[str, Any]:
        """The RFC 9007 §2 MDN object (as ``MDN/parse`` would return it)."""
        disposition: dict[str, str] | None = None
        if self.disposition is not None:
            disposition = {
                "actionMode": str(self.disposition.action_mode),
                "sendingMode": str(self.disposition.sending_mode).lower(),
                "type": str(self.disposition.type).lower(),
            }
        return {
            "forEmailId": for_email_id,
            "subject": self.subject,
            "textBody": self.human_text,
            "includeOriginalMessage": self.original_headers is not None,
            "reportingUA": self.reporting_ua,
            "disposition": disposition,
            "mdnGateway": str(self.mdn_gateway) if self.mdn_gateway else None,
            "originalRecipient": str(self.original_recipient) if self.original_recipient else None,
            "finalRecipient": str(self.final_recipient) if self.final_recipient else None,
            "originalMessageId": f"<{self.original_message_id}>"
            if self.original_message_id
            else None,
            "error": list(self.errors) or None,
            "extensionFields": dict(self.extension_fields) or None,
        }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DSNRecipient:
    """One per-recipient group of a DSN, RFC 3464 §2.3."""

    original_recipient: AddressField | None = None  # §2.3.1
    final_recipient: AddressField | None = None  # §2.3.2 (MUST)
    action: DSNAction | str | None = None  # §2.3.3 (MUST); str when unregistered
    status: StatusCode | None = None  # §2.3.4 (MUST)
    remote_mta: AddressField | None = None  # §2.3.5 (mta-name-type; mta-name)
    diagnostic_code: Diagnostic | None = None  # §2.3.6
    last_attempt_date: datetime | None = None  # §2.3.7
    final_log_id: str | None = None  # §2.3.8
    will_retry_until: datetime | None = None  # §2.3.9
    extension_fields: Headers = dataclasses.field(default_factory=Headers)

    @property
    def address(self) -> str | None:
        """The best address for this recipient: Final-, else Original-Recipient."""
        field = self.final_recipient or self.original_recipient
        return field.address if field else None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DSN(Report):
    """A delivery status notification, RFC 3464 §2.2 and §2.3 (RFC 6533 forms too)."""

    original_envelope_id: str | None = None  # §2.2.1
    reporting_mta: AddressField | None = None  # §2.2.2 (mta-name-type; mta-name)
    dsn_gateway: AddressField | None = None  # §2.2.3
    received_from_mta: AddressField | None = None  # §2.2.4
    arrival_date: datetime | None = None  # §2.2.5
    recipients: tuple[DSNRecipient, ...] = ()
    utf8: bool = False  # read from message/global-delivery-status (RFC 6533)


def _jsonable(value: object) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Headers):
        return [[n, v] for n, v in value]
    if isinstance(value, StatusCode):
        return {
            "code": value.code,
            "comment": value.comment,
            "valid": value.valid,
            "meaning": value.meaning,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return str(value)


# ---------------------------------------------------------------------------
# Internal fast constructors, for the parser
#
# The parser builds these values for every field of every report it reads.
# A frozen dataclass's __init__ takes keywords and sets each field through
# object.__setattr__; these fill the slots of an unfrozen twin that then
# becomes the class, with the same result (tests compare them with the
# ordinary constructors).  No checks: callers pass values of the declared
# types.


def _unfrozen_twin(cls: type) -> Any:
    """A subclass of *cls* adding no slot, whose slots take plain assignment.

    Plain assignment costs a fraction of a call to a slot's setter (timeit,
    a DSNRecipient, ten fields: 1.3 us against 2.5 us); the finished
    instance then becomes a *cls* by ``__class__`` assignment, which Python
    allows between classes of the same layout.  A subclass that adds
    nothing has *cls*'s layout by construction, and Python sees that
    without comparing the two classes' slots (timeit, an AddressField:
    0.33 us against 0.40 us for a sibling class with the same slots).
    """
    return type(
        f"_Unfrozen{cls.__name__}",
        (cls,),
        {
            "__slots__": (),
            # Undo what the frozen dataclass brings: its keyword __init__,
            # and the __setattr__/__delattr__ that refuse assignment
            # (either one alone makes every assignment a call).
            "__init__": object.__init__,
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
        },
    )


_DefectTwin = _unfrozen_twin(Defect)
_AddressFieldTwin = _unfrozen_twin(AddressField)
_StatusCodeTwin = _unfrozen_twin(StatusCode)
_DiagnosticTwin = _unfrozen_twin(Diagnostic)
_MessageRefTwin = _unfrozen_twin(MessageRef)
_DSNRecipientTwin = _unfrozen_twin(DSNRecipient)
_MDNTwin = _unfrozen_twin(MDN)
_DSNTwin = _unfrozen_twin(DSN)


def _defect(code: str, message: str, field: str | None) -> Defect:
    """``Defect(code, message, field)``, built without ``__init__``."""
    twin = _DefectTwin()
    twin.code = code
    twin.message = message
    twin.field = field
    twin.__class__ = Defect
    defect: Defect = twin
    return defect


def _address_field(type_: str, address: str) -> AddressField:
    """``AddressField(type_, address)``, built without ``__init__``."""
    twin = _AddressFieldTwin()
    twin.type = type_
    twin.address = address
    twin.__class__ = AddressField
    field: AddressField = twin
    return field


def _status_code(code: str, comment: str | None = None) -> StatusCode:
    """``StatusCode(code, comment)`` for a well-formed code, built without ``__init__``."""
    twin = _StatusCodeTwin()
    twin.code = code
    twin.comment = comment
    twin.valid = True
    twin.__class__ = StatusCode
    status: StatusCode = twin
    return status


def _diagnostic(type_: str, text: str) -> Diagnostic:
    """``Diagnostic(type=type_, text=text)``, built without ``__init__``."""
    twin = _DiagnosticTwin()
    twin.type = type_
    twin.text = text
    twin.__class__ = Diagnostic
    diagnostic: Diagnostic = twin
    return diagnostic


def _message_ref(
    message_id: str | None, by: RefSource, envelope_id: str | None = None
) -> MessageRef:
    """``MessageRef(message_id, by, envelope_id)``, built without ``__init__``."""
    twin = _MessageRefTwin()
    twin.message_id = message_id
    twin.by = by
    twin.envelope_id = envelope_id
    twin.__class__ = MessageRef
    ref: MessageRef = twin
    return ref


def _dsn_recipient(values: Mapping[str, Any], extension_fields: Headers) -> DSNRecipient:
    """``DSNRecipient(**values, extension_fields=extension_fields)``, built without ``__init__``.

    *values* is keyed by field name; a field it does not hold is None (every
    field but ``extension_fields`` defaults to None).
    """
    twin = _DSNRecipientTwin()
    get = values.get
    twin.original_recipient = get("original_recipient")
    twin.final_recipient = get("final_recipient")
    twin.action = get("action")
    twin.status = get("status")
    twin.remote_mta = get("remote_mta")
    twin.diagnostic_code = get("diagnostic_code")
    twin.last_attempt_date = get("last_attempt_date")
    twin.final_log_id = get("final_log_id")
    twin.will_retry_until = get("will_retry_until")
    twin.extension_fields = extension_fields
    twin.__class__ = DSNRecipient
    recipient: DSNRecipient = twin
    return recipient


# The fields of :class:`Report` the parser reads from the report message, in
# the order of the tuple it passes to _mdn and _dsn.
REPORT_VALUES = ("message_id", "date", "sender", "subject", "human_text", "original_headers")
_ReportValues = tuple[
    str | None, datetime | None, str | None, str | None, str | None, Headers | None
]


def _fill_report(
    twin: Any,
    values: Mapping[str, Any],
    common: _ReportValues,
    message_ref: MessageRef | None,
    defects: tuple[Defect, ...],
) -> None:
    """Set the fields every report has (those of :class:`Report`).

    *common* holds the fields named by ``REPORT_VALUES``, in that order;
    *values* the report's own fields, ``extension_fields`` among them.
    """
    twin.message_ref = message_ref
    (
        twin.message_id,
        twin.date,
        twin.sender,
        twin.subject,
        twin.human_text,
        twin.original_headers,
    ) = common
    twin.extension_fields = values["extension_fields"]
    twin.defects = defects


def _mdn(
    values: Mapping[str, Any],
    common: _ReportValues,
    message_ref: MessageRef | None,
    defects: tuple[Defect, ...],
) -> MDN:
    """``MDN(**values, message_ref=..., defects=..., **dict(zip(REPORT_VALUES, common)))``.

    Built without ``__init__``; *values* must name every other field.
    """
    twin = _MDNTwin()
    _fill_report(twin, values, common, message_ref, defects)
    twin.reporting_ua = values["reporting_ua"]
    twin.mdn_gateway = values["mdn_gateway"]
    twin.original_recipient = values["original_recipient"]
    twin.final_recipient = values["final_recipient"]
    twin.original_message_id = values["original_message_id"]
    twin.disposition = values["disposition"]
    twin.errors = values["errors"]
    twin.received_content_mic = values["received_content_mic"]
    twin.__class__ = MDN
    report: MDN = twin
    return report


def _dsn(
    values: Mapping[str, Any],
    common: _ReportValues,
    message_ref: MessageRef | None,
    defects: tuple[Defect, ...],
) -> DSN:
    """``DSN(**values, message_ref=..., defects=..., **dict(zip(REPORT_VALUES, common)))``.

    Built without ``__init__``; *values* must name every other field.
    """
    twin = _DSNTwin()
    _fill_report(twin, values, common, message_ref, defects)
    twin.original_envelope_id = values["original_envelope_id"]
    twin.reporting_mta = values["reporting_mta"]
    twin.dsn_gateway = values["dsn_gateway"]
    twin.received_from_mta = values["received_from_mta"]
    twin.arrival_date = values["arrival_date"]
    twin.recipients = values["recipients"]
    twin.utf8 = values["utf8"]
    twin.__class__ = DSN
    report: DSN = twin
    return report
