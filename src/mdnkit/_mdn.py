"""The fields of a ``message/disposition-notification`` part (RFC 8098 §3.1, §3.2).

:func:`mdn_values` reads the machine-readable part of a read receipt and
returns the MDN-specific keyword arguments of :class:`~mdnkit.MDN`.  The
MIME work (finding the part, decoding it) is the parser's; the grammar of
the values is :mod:`mdnkit._grammar`'s.  What is left here is the field
level: which field is which, what to do with repeats, missing fields and
the vocabulary of older and neighbouring specifications:

- RFC 2298 ``Failure:`` and ``Warning:`` fields, dropped by RFC 8098
  (Appendix A), still sent by AS2 software (RFC 4130 §7.5.6): kept in
  ``errors`` as ``"Failure: text"`` / ``"Warning: text"``.
- RFC 4130 (AS2) ``Received-Content-MIC``: kept as written.
- MDN fields written in the part's MIME header block, with no blank line
  before them (Direct Project security agents): read, with a defect.

Defect codes emitted here (on top of those of :mod:`mdnkit._grammar`):

=========================== ================================================================
code                        meaning
=========================== ================================================================
``missing-final-recipient`` no ``Final-Recipient`` field (RFC 8098 §3.2.4: MUST)
``missing-disposition``     no ``Disposition`` field (RFC 8098 §3.2.6: MUST)
``malformed-disposition``   the ``Disposition`` value breaks the grammar; the message is the
                            grammar error's, the disposition None
``duplicate-field``         a field that may appear once appears again; the first wins
``obsolete-field``          an RFC 2298 ``Failure`` or ``Warning`` field
``empty-field``             a field with no value (treated as absent)
``fields-in-part-header``   MDN fields found in the part's MIME header block
``several-field-groups``    blank lines between MDN fields (an MDN has one group)
=========================== ================================================================
"""

from __future__ import annotations

from collections.abc import Sequence

from ._defects import Problems
from ._grammar import (
    _NO_FIELDS,
    Field,
    FieldTuple,
    Reader,
    field_headers,
    parse_disposition,
    read_address,
    read_groups,
    read_msg_id,
    usual_plans,
)
from .errors import ParseError
from .limits import Limits

__all__ = ["MDN_FIELDS", "mdn_values"]

# The fields RFC 8098 §3.2 (and RFC 4130 §7.4.3, RFC 2298 §3.2.7-3.2.8)
# define, by lower-cased name, with the MDN keyword each one fills.
MDN_FIELDS: dict[str, str] = {
    "reporting-ua": "reporting_ua",  # §3.2.1
    "mdn-gateway": "mdn_gateway",  # §3.2.2
    "original-recipient": "original_recipient",  # §3.2.3
    "final-recipient": "final_recipient",  # §3.2.4
    "original-message-id": "original_message_id",  # §3.2.5
    "disposition": "disposition",  # §3.2.6
    "error": "errors",  # §3.2.7, may repeat
    "failure": "errors",  # RFC 2298 §3.2.7, obsolete, may repeat
    "warning": "errors",  # RFC 2298 §3.2.8, obsolete, may repeat
    "received-content-mic": "received_content_mic",  # RFC 4130 §7.4.3
}

_REPEATABLE = frozenset({"error", "failure", "warning"})
# The keywords filled by the fields that appear once, each None until its
# field is read: copied per MDN (timeit: copy() 0.1 us, dict.fromkeys() of
# the names 0.9 us).
_NO_VALUES: dict[str, object] = dict.fromkeys(
    v for k, v in MDN_FIELDS.items() if k not in _REPEATABLE
)
_OBSOLETE = {"failure": "Failure", "warning": "Warning"}


def mdn_values(
    text: str,
    problems: Problems,
    limits: Limits,
    *,
    header_fields: Sequence[Field] = (),
) -> dict[str, object]:
    """Keyword arguments for the MDN-specific fields of :class:`~mdnkit.MDN`.

    RFC 8098 §3.1::

        disposition-notification-content = [ reporting-ua-field CRLF ]
                  [ mdn-gateway-field CRLF ]
                  [ original-recipient-field CRLF ]
                  final-recipient-field CRLF
                  [ original-message-id-field CRLF ]
                  disposition-field CRLF
                  *( error-field CRLF )
                  *( extension-field CRLF )

    "The order of the above fields is recommended but not fixed": any
    order is read, names in any case.  A field that may appear once and
    appears again is a ``duplicate-field`` defect and the first one wins.
    Extension fields (and everything unknown) are kept verbatim, in order,
    in ``extension_fields``.

    *header_fields* are the fields of the part's own MIME header block.
    Some agents write the MDN fields there, with no blank line after
    ``Content-Type``; those found there are read first, with a
    ``fields-in-part-header`` defect.  Other header fields
    (``Content-Type`` …) are not MDN fields and are ignored.
    """
    groups = read_groups(text, problems, limits)
    if len(groups) > 1:
        problems.add(
            "several-field-groups",
            f"The MDN fields are split by blank lines into {len(groups)} groups; all are read",
        )
    fields: list[FieldTuple]
    keys: list[str]  # field names are case-insensitive: each is lower-cased once
    if len(groups) == 1 and not header_fields:
        fields, keys = groups[0]  # the usual MDN: one group, read as it is
    else:
        fields = []
        keys = []
        if header_fields:
            fields = [f for f in header_fields if f.name.lower() in MDN_FIELDS]
            keys = [name.lower() for name, _value, _line in fields]
            if fields:
                problems.add(
                    "fields-in-part-header",
                    "MDN fields were written in the part's MIME header block",
                )
        for group, group_keys in groups:
            fields += group
            keys += group_keys

    values = _NO_VALUES.copy()  # every MDN keyword, None until read
    plan = _USUAL_FIELDS.get(tuple(keys))
    if plan is not None:
        # A usual group (see usual_plans): Final-Recipient and Disposition
        # there, no field twice, no error or extension field.
        for (target, read), (name, value, _line) in zip(plan, fields):  # noqa: B905 (as below)
            if value:  # no None reader: the orders name read-once fields only
                values[target] = read(value, name, problems, limits)  # type: ignore[misc]
            else:
                problems.add("empty-field", f"{name} has no value", field=name)
        values["errors"] = ()
        values["extension_fields"] = _NO_FIELDS
        return values
    errors: list[str] = []
    extensions: list[tuple[str, str]] = []
    seen: set[str] = set()
    for (name, value, _line), key in zip(fields, keys):  # noqa: B905 (strict= costs a keyword call)
        reader = _READERS.get(key)
        if reader is None:
            if key in _REPEATABLE:
                if not value:
                    problems.add("empty-field", f"{name} has no value", field=name)
                else:
                    errors.append(_error_text(key, name, value, problems))
            else:
                extensions.append((name, value))
            continue
        if key in seen:
            problems.add(
                "duplicate-field",
                f"{name} appears more than once; the first is used",
                field=name,
            )
            continue
        seen.add(key)
        if not value:
            problems.add("empty-field", f"{name} has no value", field=name)
            continue
        target, read = reader
        values[target] = read(value, name, problems, limits)

    if "final-recipient" not in seen:
        problems.add(
            "missing-final-recipient",
            "No Final-Recipient field (RFC 8098 §3.2.4 requires one)",
            field="Final-Recipient",
        )
    if "disposition" not in seen:
        problems.add(
            "missing-disposition",
            "No Disposition field (RFC 8098 §3.2.6 requires one)",
            field="Disposition",
        )
    values["errors"] = tuple(errors)
    values["extension_fields"] = field_headers(extensions)
    return values


def _error_text(key: str, name: str, value: str, problems: Problems) -> str:
    """``error-field = "Error" ":" *([FWS] text)`` (RFC 8098 §3.2.7), as written.

    RFC 2298's ``Failure`` and ``Warning`` fields have the same shape; they
    keep their name in front so that a reader can tell them apart.
    """
    obsolete = _OBSOLETE.get(key)
    if obsolete is None:
        return value
    problems.add(
        "obsolete-field",
        f"{name} is an RFC 2298 field that RFC 8098 removed; kept with the errors",
        field=name,
    )
    return f"{obsolete}: {value}"


def _as_written(value: str, name: str, problems: Problems, limits: Limits) -> object:
    """The value as written (unfolded): Reporting-UA and Received-Content-MIC.

    RFC 8098 §3.2.1 and RFC 4130 §7.4.3 (algorithm names vary: sha1,
    sha-256, sha2256)::

        reporting-ua-field = "Reporting-UA" ":" OWS ua-name OWS
                  [ ";" OWS ua-product OWS ]
        AS2-received-content-MIC-field = "Received-content-MIC" ":"
                  encoded-message-digest "," digest-alg-id CRLF
    """
    return value


def _disposition(value: str, name: str, problems: Problems, limits: Limits) -> object:
    """RFC 8098 §3.2.6; an unreadable value leaves the disposition None.

    Nothing is guessed from a broken value: a receipt that cannot say
    what happened must not be counted as "displayed".
    """
    try:
        return parse_disposition(value, problems=problems, field=name, limits=limits)
    except ParseError as error:
        if error.code == "limit-exceeded":
            raise
        problems.add(
            "malformed-disposition",
            error.message,
            field=name,
            source=error.source,
            position=error.position,
        )
        return None


# The fields read once, by lower-cased name: the MDN keyword each fills and
# its reader, which takes (value, field name, problems, limits).
_READERS: dict[str, tuple[str, Reader]] = {
    "reporting-ua": ("reporting_ua", _as_written),  # §3.2.1
    "mdn-gateway": ("mdn_gateway", read_address),  # §3.2.2
    "original-recipient": ("original_recipient", read_address),  # §3.2.3
    "final-recipient": ("final_recipient", read_address),  # §3.2.4
    "original-message-id": ("original_message_id", read_msg_id),  # §3.2.5
    "disposition": ("disposition", _disposition),  # §3.2.6
    "received-content-mic": ("received_content_mic", _as_written),  # RFC 4130 §7.4.3
}
# The orders in which agents write the fields: RFC 8098 §3.1's own (that of
# _READERS), and RFC 4130's (AS2), with Received-Content-MIC before
# Disposition.
_USUAL_FIELDS = usual_plans(
    _READERS,
    ("final-recipient", "disposition"),
    tuple(_READERS),
    (
        "reporting-ua",
        "original-recipient",
        "final-recipient",
        "original-message-id",
        "received-content-mic",
        "disposition",
    ),
)
