"""Email addresses as RFC 5321/5322 compare them.

One place for what several layers need: pulling the addr-spec out of the
shapes real reports use (``<a@b>``, ``"Name" <a@b>``, ``@route:a@b``),
normalising it for correlation, comparing two of them the way RFC 8098 §2.1
asks, and telling whether a caller-supplied address is acceptable.
"""

from __future__ import annotations

import re

# RFC 5322 §3.2.3 dot-atom: atext runs joined by single dots.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*\Z")
# RFC 5321 §4.1.2 Domain (with RFC 6531 U-labels allowed) or an address literal.
_DOMAIN = re.compile(r"(?:[^\s@()<>\[\]\\,;:\"]+|\[[^\[\]\\\s]*\])\Z")
# RFC 5321 §4.5.3.1: 64 octets of local part, 255 of domain.
MAX_LOCAL = 64
MAX_DOMAIN = 255


def addr_spec(text: str) -> str | None:
    """The addr-spec in *text*, or None when there is none.

    Accepts what reports really contain: a bare ``a@b``, ``<a@b>``,
    ``Name <a@b>``, ``"Quoted" <a@b>``, an obsolete source route
    (``@relay:a@b``, RFC 5321 §4.1.2 ``A-d-l``), and a trailing comment.
    The local part keeps its case and quoting.
    """
    text = text.strip()
    if not text:
        return None
    start = text.rfind("<")
    if start != -1:
        end = text.find(">", start)
        inner = text[start + 1 : end if end != -1 else len(text)]
    else:
        inner = _strip_trailing_comment(text)
    inner = inner.strip()
    # Obsolete route: "@a,@b:local@domain" -- only the mailbox matters.
    if inner.startswith("@") and ":" in inner:
        inner = inner[inner.index(":") + 1 :]
    at = inner.rfind("@")
    if at <= 0 or at == len(inner) - 1:
        return None
    return inner


def _strip_trailing_comment(text: str) -> str:
    if text.endswith(")") and "(" in text:
        return text[: text.rfind("(")].rstrip()
    return text


def canonical_local_part(local: str) -> str:
    """RFC 8098 §2.1 local-part canonicalisation: drop DQUOTEs and ``\\`` escapes."""
    if len(local) >= 2 and local[0] == '"' and local[-1] == '"':
        local = local[1:-1]
        out = []
        i = 0
        while i < len(local):
            if local[i] == "\\" and i + 1 < len(local):
                i += 1
            out.append(local[i])
            i += 1
        return "".join(out)
    return local


def normalize(text: str | None) -> str | None:
    """The addr-spec in *text*, canonical for comparison, or None.

    Local part canonicalised (quotes and escapes removed) and case kept,
    as RFC 5321 §2.4 says it may be significant; domain lower-cased.
    """
    if text is None:
        return None
    spec = addr_spec(text)
    if spec is None:
        return None
    at = spec.rfind("@")
    return canonical_local_part(spec[:at]) + "@" + spec[at + 1 :].lower().rstrip(".")


def same_address(a: str | None, b: str | None) -> bool:
    """RFC 8098 §2.1: addr-specs equal, local part case-sensitive, domain not."""
    na, nb = normalize(a), normalize(b)
    return na is not None and na == nb


def is_valid_mailbox(spec: str) -> bool:
    """True when *spec* is an addr-spec a sender may put in a header.

    Dot-atom or quoted-string local part, a domain name or address literal,
    RFC 5321 length limits, no control characters anywhere.
    """
    if any(ord(c) < 32 or ord(c) == 127 or c in "\u2028\u2029\x85" for c in spec):
        return False
    at = spec.rfind("@")
    if at <= 0:
        return False
    local, domain = spec[:at], spec[at + 1 :]
    if len(local.encode()) > MAX_LOCAL or not domain or len(domain.encode()) > MAX_DOMAIN:
        return False
    if not (_DOT_ATOM.match(local) or _is_quoted_string(local)):
        return False
    return bool(_DOMAIN.match(domain)) and ".." not in domain and not domain.startswith(".")


def _is_quoted_string(local: str) -> bool:
    if len(local) < 2 or local[0] != '"' or local[-1] != '"':
        return False
    body = local[1:-1]
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return False
        i += 1
    return i == len(body)
