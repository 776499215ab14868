"""mdnkit's exceptions: one root, split by whose fault it is.

- :class:`ParseError` -- the *input* is malformed (a stranger's receipt).
- :class:`RequestError` -- the *caller* misused the API (a bad address, a
  header value with a line break, a second receipt request).
- :class:`StoreError` -- the store cannot be used (corrupt or foreign file,
  a failed migration).

Every error mdnkit raises on bad input is one of these; nothing else escapes
the parser.
"""

from __future__ import annotations

__all__ = ["MdnkitError", "ParseError", "RequestError", "StoreError"]

# How much of the input a ParseError shows around the fault: enough to see
# the context, bounded so a 10 MB header line does not become a 10 MB message.
_CONTEXT = 60


class MdnkitError(Exception):
    """The root of every exception mdnkit raises on purpose."""


class ParseError(MdnkitError, ValueError):
    """A report, header or field could not be read.

    ``source`` is the text that was being parsed (a field value, a header
    line), ``position`` the offset of the fault in it, ``field`` the name of
    the field when there is one, and ``code`` the same machine-readable code
    a lenient parse records as a :class:`~mdnkit.Defect`.  ``str(error)``
    shows the message, then the source with a caret under the fault::

        Expected '/' between action mode and sending mode
          manual-action MDN-sent-manually; displayed
                       ^
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        position: int | None = None,
        field: str | None = None,
        code: str = "malformed",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.position = position
        self.field = field
        self.code = code

    def __str__(self) -> str:
        head = self.message if self.field is None else f"{self.field}: {self.message}"
        if self.source is None:
            return head
        return head + "\n" + _caret_view(self.source, self.position)

    def __reduce__(self) -> tuple[object, ...]:  # keep keyword arguments across pickling
        return (
            _rebuild_parse_error,
            (self.message, self.source, self.position, self.field, self.code),
        )


def _rebuild_parse_error(
    message: str, source: str | None, position: int | None, field: str | None, code: str
) -> ParseError:
    return ParseError(message, source=source, position=position, field=field, code=code)


def _caret_view(source: str, position: int | None) -> str:
    """Two indented lines: a window of *source* and a caret under *position*.

    Control characters are shown as ``?`` so that the caret stays aligned
    and a hostile value cannot write to the user's terminal.
    """
    if position is None:
        position = 0
    position = max(0, min(position, len(source)))
    start = max(0, position - _CONTEXT)
    end = min(len(source), position + _CONTEXT)
    window = source[start:end]
    shown = "".join(c if c.isprintable() else "?" for c in window)
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(source) else ""
    return f"  {prefix}{shown}{suffix}\n  {' ' * (len(prefix) + position - start)}^"


class RequestError(MdnkitError, ValueError):
    """The caller asked for something mdnkit will not do (bad argument)."""


class StoreError(MdnkitError):
    """The store cannot be opened, read or written as asked."""
