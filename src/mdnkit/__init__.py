"""mdnkit: email receipts done properly.

Ask for receipts (RFC 8098 ``Disposition-Notification-To``, RFC 3461 DSN
parameters), read them (MDNs, DSNs and their RFC 6533 UTF-8 forms), answer
them (RFC 8098 §2.1 policy), and tie every receipt back to the message and
the recipient it is about.

The names below are loaded on first use, so ``import mdnkit`` in a mail
pipeline costs almost nothing until a receipt needs reading; the optional
:mod:`mdnkit.pixel` submodule is never imported from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import MdnkitError, ParseError, RequestError, StoreError

if TYPE_CHECKING:
    from .events import Event, EventType, Source
    from .limits import Limits
    from .model import (
        DSN,
        MDN,
        ActionMode,
        AddressField,
        Defect,
        Diagnostic,
        Disposition,
        DispositionType,
        DSNAction,
        DSNRecipient,
        Headers,
        MessageRef,
        RefSource,
        Report,
        SendingMode,
        StatusCode,
    )
    from .parser import parse, parse_all, parse_disposition
    from .request import DsnOptions, ReceiptRequest, dsn_options, receipt_request, request_receipt
    from .respond import Decision, ReceiptPolicy, decide, make_mdn
    from .store import MemoryStore, SQLiteStore, Store
    from .tracker import MessageStatus, RecipientStatus, SentMessage, Tracker

# name -> module that defines it
_LAZY = {
    **dict.fromkeys(
        (
            "DSN",
            "MDN",
            "ActionMode",
            "AddressField",
            "Defect",
            "Diagnostic",
            "Disposition",
            "DispositionType",
            "DSNAction",
            "DSNRecipient",
            "Headers",
            "MessageRef",
            "RefSource",
            "Report",
            "SendingMode",
            "StatusCode",
        ),
        "model",
    ),
    **dict.fromkeys(("Event", "EventType", "Source"), "events"),
    "Limits": "limits",
    **dict.fromkeys(("parse", "parse_all", "parse_disposition"), "parser"),
    **dict.fromkeys(
        ("DsnOptions", "ReceiptRequest", "dsn_options", "receipt_request", "request_receipt"),
        "request",
    ),
    **dict.fromkeys(("Decision", "ReceiptPolicy", "decide", "make_mdn"), "respond"),
    **dict.fromkeys(("MemoryStore", "SQLiteStore", "Store"), "store"),
    **dict.fromkeys(("MessageStatus", "RecipientStatus", "SentMessage", "Tracker"), "tracker"),
}

__all__ = [
    "DSN",
    "MDN",
    "ActionMode",
    "AddressField",
    "DSNAction",
    "DSNRecipient",
    "Decision",
    "Defect",
    "Diagnostic",
    "Disposition",
    "DispositionType",
    "DsnOptions",
    "Event",
    "EventType",
    "Headers",
    "Limits",
    "MdnkitError",
    "MemoryStore",
    "MessageRef",
    "MessageStatus",
    "ParseError",
    "ReceiptPolicy",
    "ReceiptRequest",
    "RecipientStatus",
    "RefSource",
    "Report",
    "RequestError",
    "SQLiteStore",
    "SendingMode",
    "SentMessage",
    "Source",
    "StatusCode",
    "Store",
    "StoreError",
    "Tracker",
    "__version__",
    "decide",
    "dsn_options",
    "make_mdn",
    "parse",
    "parse_all",
    "parse_disposition",
    "receipt_request",
    "request_receipt",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("mdnkit")
        except PackageNotFoundError:  # running from a source tree
            value = "0+unknown"
    elif name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    else:
        raise AttributeError(f"module 'mdnkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
