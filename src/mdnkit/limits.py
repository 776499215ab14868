"""Resource bounds for reading untrusted reports.

Receipts come from strangers.  Every quantity a hostile message could
inflate has a bound here, checked as the reader goes, so that parsing
costs time and memory linear in the input and never more than these
allow.  Going over a bound is a :class:`~mdnkit.ParseError` with code
``limit-exceeded`` (in lenient mode too: a report that breaks a bound is
refused, not truncated silently).

The defaults are generous for real mail (the largest real report seen
has a few dozen header fields and recipients) and small enough that a
bomb of any kind is refused in milliseconds.
"""

from __future__ import annotations

import dataclasses

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds applied while reading one message.  Pass to ``parse(limits=...)``."""

    max_input_bytes: int = 64 * 1024 * 1024  # the whole message
    max_header_bytes: int = 1024 * 1024  # one header block (all fields, folded)
    max_header_fields: int = 2000  # fields in one header block
    max_line_bytes: int = 256 * 1024  # one field, unfolded
    max_parts: int = 10_000  # MIME parts in the whole message
    max_depth: int = 32  # nesting of multipart and message/rfc822 parts
    max_report_bytes: int = 4 * 1024 * 1024  # the decoded report (2nd) part
    max_report_fields: int = 100_000  # fields in the report part
    max_recipients: int = 10_000  # per-recipient groups in one DSN
    max_comment_depth: int = 64  # nested (comments) in one field
    max_reports: int = 64  # reports returned by parse_all


DEFAULT_LIMITS = Limits()
