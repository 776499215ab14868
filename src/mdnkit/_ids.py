"""Message-IDs as mdnkit compares them.

A receipt names the message it is about by its Message-ID, and the same
id reaches mdnkit by several roads: the sent message's header, a report's
Original-Message-ID, In-Reply-To or References, the returned original,
a caller's argument.  Each road writes it a little differently (with or
without angle brackets, folded across lines, with a stray space from a
careless generator), so every comparison goes through :func:`canonical`.
"""

from __future__ import annotations


def canonical(text: object) -> str | None:
    """The comparison key of a Message-ID, or None when there is none.

    RFC 5322 §3.6.4::

        msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]

    The text between the first ``<`` and the next ``>`` (all of it when
    there are no brackets), with every white space removed: folding may
    put white space inside an id (RFC 5322 §4.5.4 obs-id-left), and some
    generators write ids with a space in them.  Case is kept: ids are
    case-sensitive.
    """
    if text is None:
        return None
    value = str(text).strip()
    start = value.find("<")
    if start != -1:
        end = value.find(">", start)
        value = value[start + 1 : end if end != -1 else len(value)]
    value = "".join(value.split())
    return value or None
