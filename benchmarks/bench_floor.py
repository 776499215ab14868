"""How fast could a report reader be at all?  A lower bound for bench_parse.py.

    python benchmarks/bench_floor.py

The *floor* below is the fewest steps that turn the generated Postfix-like
bounces of bench_parse.py into plain values: the end of the top-level
header block, its Content-Type and own fields, the delimiter lines, the
part headers, the delivery-status fields grouped at blank lines, each
address split, each date read into a ``datetime``, each diagnostic split,
and the returned original's header fields.  It checks nothing (no limit,
no defect, no line number, no other field order or line end), builds
dicts and tuples rather than typed values, and would fail on most real
mail: it exists only to be timed.

Whatever a full reader adds to it (typed, frozen values, every field
checked, defects recorded, limits kept, every shape real senders use)
can only cost more, so its speed against ``policy.default`` bounds what
any pure-Python reader with mdnkit's result could reach on these inputs.

The *typed floor* adds to the floor only the building of mdnkit's result,
with the package's own fastest constructors: it returns a ``DSN`` equal
to the one ``mdnkit.parse`` returns (checked before timing), still
checking nothing: about what a second reader of the usual bounce
would cost if it checked nothing.
The sides take turns run by run, as in bench_parse.py.
"""

from __future__ import annotations

import datetime
import itertools
import pathlib
import re
import sys
from collections.abc import Callable
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import bench_parse  # noqa: E402
import generate  # noqa: E402

from mdnkit import model  # noqa: E402
from mdnkit._dsn import _ACTIONS  # noqa: E402
from mdnkit.statuscodes import _REGISTERED as REGISTERED_STATUS  # noqa: E402

_BLANK_LINE = re.compile(rb"\n\r?\n")
_CONTENT_TYPE = re.compile(r"\n(?i:content-type)[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)")
_OWN = re.compile(
    r"\n(?=(?i:[dfims]))(?i:(message-id|date|from|subject))[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)"
)
_BOUNDARY = re.compile(r'boundary="?([^";\s]+)')
_PART_TYPE = re.compile(rb"(?i)(?:Content-Description:[^\n]*\n)?Content-Type:([^\n]*)\n\r?\n")
_ROW = re.compile(r"([!-9;-~]+):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)\n|\r?\n")
_FIELD = re.compile(r"([!-9;-~]+)[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)")
_TYPED = re.compile(r"([A-Za-z0-9-]+)[ \t]*;[ \t]*([^\s;]+)\Z")
_DATE = re.compile(
    r"(?:\w{3},\s+)?(\d{1,2})\s+(\w{3})\s+(\d{4})\s+(\d\d):(\d\d):(\d\d)\s+([+-]\d{4})"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _date(value: str) -> datetime.datetime:
    day, month, year, hour, minute, second, zone = _DATE.match(value).groups()  # type: ignore[union-attr]
    offset = int(zone[:3]) * 60 + int(zone[0] + zone[3:])
    return datetime.datetime(
        int(year),
        _MONTHS[month],
        int(day),
        int(hour),
        int(minute),
        int(second),
        tzinfo=datetime.timezone(datetime.timedelta(minutes=offset)),
    )


def _pair(first: str, second: str) -> tuple[str, str]:
    return first, second


# The attribute each recipient field fills (DSNRecipient's names).
_ATTRIBUTES = {
    "original-recipient": "original_recipient",
    "final-recipient": "final_recipient",
    "action": "action",
    "status": "status",
    "remote-mta": "remote_mta",
    "diagnostic-code": "diagnostic_code",
}


def floor_read(
    buf: bytes,
    address: Callable[[str, str], Any] = _pair,
    diagnostic: Callable[[str, str], Any] = _pair,
) -> tuple[Any, ...]:
    """The generated bounce *buf* as plain values, in as few steps as they take.

    Each address and diagnostic is built by *address* or *diagnostic*
    from its two halves: a tuple, unless :func:`typed_floor_read` asks
    for mdnkit's values.
    """
    blank = _BLANK_LINE.search(buf)
    assert blank is not None
    head = buf[: blank.start()].decode()
    content_type = _CONTENT_TYPE.search("\n" + head)[1]  # type: ignore[index]
    own = {name.lower(): value.strip() for name, value in reversed(_OWN.findall("\n" + head))}
    marker = ("\n--" + _BOUNDARY.search(content_type)[1]).encode()  # type: ignore[index]
    edges = []
    pos = buf.find(marker, blank.end() - 1)
    while pos != -1:
        edges.append(pos)
        pos = buf.find(marker, pos + len(marker))
    parts = []
    for start, end in itertools.pairwise(edges):
        line_end = buf.index(b"\n", start + 1) + 1
        part = _PART_TYPE.match(buf, line_end)
        assert part is not None
        # The CR of a CRLF before the delimiter line is the delimiter's.
        parts.append((part[1].strip().decode(), part.end(), end - (buf[end - 1] == 0x0D)))
    human = buf[parts[0][1] : parts[0][2]].decode()
    groups: list[list[tuple[str, str]]] = [[]]
    for name, value in _ROW.findall(buf[parts[1][1] : parts[1][2]].decode() + "\n"):
        if name:
            groups[-1].append((name, value.strip()))
        elif groups[-1]:
            groups.append([])
    per_message: dict[str, Any] = {}
    for name, value in groups[0]:
        key = name.lower()
        if key == "reporting-mta":
            typed = _TYPED.match(value)
            per_message[key] = address(typed[1].lower(), typed[2])  # type: ignore[index]
        elif key == "arrival-date":
            per_message[key] = _date(value)
        else:
            per_message[name] = value  # an extension field, kept as written
    recipients = []
    for group in groups[1:]:
        recipient: dict[str, Any] = {}
        for name, value in group:
            key = _ATTRIBUTES[name.lower()]
            if key.endswith("recipient") or key == "remote_mta":
                typed = _TYPED.match(value)
                recipient[key] = address(typed[1].lower(), typed[2])  # type: ignore[index]
            elif key == "diagnostic_code":
                kind, _, text = " ".join(value.split()).partition(";")
                recipient[key] = diagnostic(kind, text.strip())
            else:
                recipient[key] = value
        if recipient:
            recipients.append(recipient)
    original = parts[2]
    original_end = _BLANK_LINE.search(buf, original[1])
    assert original_end is not None
    original_headers = _FIELD.findall(buf[original[1] : original_end.start()].decode())
    return own, _date(own["date"]), human, per_message, recipients, original_headers


_NO_FIELDS = model.Headers._from_pairs(())


def typed_floor_read(buf: bytes) -> model.DSN:
    """:func:`floor_read`, its values built into the ``DSN`` that ``mdnkit.parse`` returns."""
    own, date, human, per_message, recipients, original = floor_read(
        buf, model._address_field, model._diagnostic
    )
    reporting_mta = per_message.pop("reporting-mta")
    arrival_date = per_message.pop("arrival-date")
    typed = []
    for recipient in recipients:
        recipient["action"] = _ACTIONS[recipient["action"].lower()]
        recipient["status"] = REGISTERED_STATUS[recipient["status"]]
        typed.append(model._dsn_recipient(recipient, _NO_FIELDS))
    values = {
        "original_envelope_id": None,
        "reporting_mta": reporting_mta,
        "dsn_gateway": None,
        "received_from_mta": None,
        "arrival_date": arrival_date,
        "recipients": tuple(typed),
        "utf8": False,
        "extension_fields": model.Headers._from_pairs(tuple(per_message.items())),
    }
    original_id = ""
    for name, value in original:
        if name.lower() == "message-id":
            original_id = value.strip().strip("<>")
            break
    common = (
        own["message-id"].strip("<>"),
        date,
        own["from"].partition(" ")[0],
        own["subject"],
        human,
        model.Headers._from_pairs(tuple([(name, value.strip()) for name, value in original])),
    )
    ref = model._message_ref(original_id, model.RefSource.ATTACHED_ORIGINAL)
    return model._dsn(values, common, ref, ())


def check(bounces: list[bytes]) -> None:
    """The floor reads what mdnkit reads from *bounces*: it is timed doing the same work."""
    for data in bounces:
        _own, date, human, per_message, recipients, original = floor_read(data)
        report = bench_parse.mdnkit.parse(data)
        assert isinstance(report, bench_parse.mdnkit.DSN)
        assert (date, human, per_message["arrival-date"]) == (
            report.date,
            report.human_text,
            report.arrival_date,
        )
        assert [(r["final_recipient"], r["diagnostic_code"]) for r in recipients] == [
            (
                (r.final_recipient.type, r.final_recipient.address),
                (r.diagnostic_code.type, r.diagnostic_code.text),
            )
            for r in report.recipients
            if r.final_recipient and r.diagnostic_code
        ]
        assert report.original_headers is not None
        assert len(original) == len(report.original_headers)
        assert typed_floor_read(data) == report


def main() -> int:
    bounces = generate.realistic_reports(40)[1::4]
    check(bounces)
    best = bench_parse.side_by_side(
        {
            "floor": (floor_read, bounces, 1),
            "typed floor": (typed_floor_read, bounces, 1),
            "mdnkit": (bench_parse.mdnkit_read, bounces, 1),
            "default": (bench_parse._default, bounces, 2),
        },
        9,
    )
    default = best["default"][0]
    print(f"{len(bounces)} Postfix-like bounces, 1 to 4 recipients (CPU us per report)")
    for name in ("floor", "typed floor", "mdnkit", "default"):
        cpu = best[name][0]
        print(
            f"  {name:11s} {cpu / len(bounces) * 1e6:9.1f}   policy.default / this {default / cpu:6.1f}x"
        )
    print(f"  50x policy.default leaves {default / 50 / len(bounces) * 1e6:.1f} us per report")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
