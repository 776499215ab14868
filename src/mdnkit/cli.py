"""The ``mdnkit`` command: parse receipts, record sent mail, ingest receipts, show status.

Exit codes:

- 0: everything went well.
- 1: some inputs failed (a file that cannot be read, a message that cannot
  be recorded, a report that breaks a resource bound, an unknown
  Message-ID); the others were processed and a summary says how many.
- 2: usage error (bad arguments; argparse's own code).
- 3: the store cannot be used (a foreign or corrupt database file).

Output goes to stdout; errors, warnings and progress to stderr.  Progress
is shown only when stderr is a terminal.  Every value printed that came
from a message has its control characters replaced, so a hostile receipt
cannot write escape sequences to the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.resources
import json
import mailbox
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from . import _ids
from ._message import read_headers
from .errors import MdnkitError, ParseError, RequestError, StoreError
from .events import Event, EventType
from .limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from .model import DSN, MDN
    from .tracker import MessageStatus, RecipientStatus, Tracker

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_FAILED", "EXIT_OK", "EXIT_STORE", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_STORE = 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command killed by it

DEFAULT_DB = "receipts.db"
_PROGRESS_EVERY = 100


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with *argv* (default: ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.run(args)
    except StoreError as exc:
        _err(f"mdnkit: {exc}")
        return EXIT_STORE
    except KeyboardInterrupt:
        _err("mdnkit: interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`mdnkit status | head`): not an error of ours.
        # Point stdout at nothing so the interpreter's final flush is quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


# ---------------------------------------------------------------------------
# Arguments


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdnkit",
        description="Email receipts: read MDNs and DSNs and tie them to the mail you sent.",
        epilog=(
            "exit codes: 0 ok, 1 some inputs failed, 2 usage error, 3 store unusable, "
            "141 output closed early"
        ),
    )
    parser.add_argument(
        "--db", dest="global_db", metavar="PATH", help=f"the store (default: {DEFAULT_DB})"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        return sub

    def with_db(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--db", dest="sub_db", metavar="PATH", help=f"the store (default: {DEFAULT_DB})"
        )

    sub = command("parse", "show the reports in message files")
    sub.add_argument("files", nargs="+", metavar="FILE")
    sub.add_argument("--json", action="store_true", help="one JSON object per report")
    sub.set_defaults(run=_cmd_parse)

    sub = command("record", "remember sent messages (from .eml files, mboxes or Maildirs)")
    sub.add_argument("sources", nargs="+", metavar="SOURCE")
    with_db(sub)
    sub.set_defaults(run=_cmd_record)

    sub = command("ingest", "read receipts (from .eml files, mboxes or Maildirs) into the store")
    sub.add_argument("sources", nargs="+", metavar="SOURCE")
    with_db(sub)
    sub.set_defaults(run=_cmd_ingest)

    sub = command("status", "who received, read and bounced a message (or every message)")
    sub.add_argument("message_id", nargs="?", metavar="MESSAGE-ID")
    sub.add_argument("--json", action="store_true", help="JSON instead of a table")
    with_db(sub)
    sub.set_defaults(run=_cmd_status)

    sub = command("demo", "run the whole loop on bundled samples, in a temporary store")
    sub.set_defaults(run=_cmd_demo)

    pixel = command("pixel", "open tracking (mdnkit.pixel)")
    pixel_commands = pixel.add_subparsers(dest="pixel_command", metavar="COMMAND", required=True)
    serve = pixel_commands.add_parser(
        "serve", help="serve the pixel endpoint (wsgiref, loopback by default)"
    )
    serve.set_defaults(run=_cmd_pixel_serve)
    _add_pixel_arguments(serve)
    return parser


def _add_pixel_arguments(parser: argparse.ArgumentParser) -> None:
    # Imported here so that mdnkit works (and starts fast) without the pixel.
    try:
        from .pixel import serve
    except ImportError:
        return
    serve.add_arguments(parser)


def _db(args: argparse.Namespace) -> str:
    return str(getattr(args, "sub_db", None) or args.global_db or DEFAULT_DB)


# ---------------------------------------------------------------------------
# Commands


def _cmd_parse(args: argparse.Namespace) -> int:
    from .parser import parse_all

    failed = 0
    for name in args.files:
        data = _read_file(name)
        if data is None:
            failed += 1
            continue
        try:
            reports = parse_all(data)
        except ParseError as exc:
            _err(f"{name}: {exc}")
            failed += 1
            continue
        if args.json:
            for report in reports:
                print(json.dumps({"file": name, **report.to_dict()}, ensure_ascii=False))
            if not reports:
                print(json.dumps({"file": name, "kind": None}))
            continue
        if not reports:
            print(f"{_clean(name)}: not a report")
        for report in reports:
            print(f"{_clean(name)}:")
            print(_describe(report))
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_record(args: argparse.Namespace) -> int:
    from .tracker import Tracker

    recorded = known = failed = 0
    with Tracker(_db(args)) as tracker, _Progress("record") as progress:
        for label, data in _messages(args.sources, progress):
            if data is None:
                failed += 1
                continue
            try:
                first = tracker.sent(_message_id_of(data) or "") is None
                tracker.record_sent(data)
            except RequestError as exc:
                _err(f"{label}: {exc}")
                failed += 1
                continue
            if first:
                recorded += 1
            else:
                known += 1
    _err(f"recorded {recorded} message(s), {known} already known, {failed} failed")
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_ingest(args: argparse.Namespace) -> int:
    from .tracker import Tracker

    messages = reports = not_reports = failed = 0
    new: list[Event] = []
    with Tracker(_db(args)) as tracker, _Progress("ingest") as progress:
        tracker.subscribe(new.append)
        for label, data in _messages(args.sources, progress):
            if data is None:
                failed += 1
                continue
            messages += 1
            try:
                events = tracker.ingest(data)
            except MdnkitError as exc:
                _err(f"{label}: {exc}")
                failed += 1
                continue
            if events:
                reports += 1
            else:
                not_reports += 1
    tied = sum(1 for e in new if e.message_id is not None)
    _err(
        f"read {messages} message(s): {reports} with reports, {not_reports} without;"
        f" {len(new)} new event(s), {tied} tied, {len(new) - tied} unmatched; {failed} failed"
    )
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from .tracker import Tracker

    path = _db(args)
    if not os.path.exists(path):
        _err(f"mdnkit: no store at {path} (record or ingest something first)")
        return EXIT_FAILED
    with Tracker(path) as tracker:
        if args.message_id is None:
            return _print_summary(tracker, as_json=args.json)
        try:
            status = tracker.status(args.message_id)
        except RequestError as exc:
            _err(f"mdnkit: {exc}")
            return EXIT_FAILED
        if args.json:
            print(json.dumps(status.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(format_status(status))
    return EXIT_OK


def _cmd_pixel_serve(args: argparse.Namespace) -> int:
    try:
        from .pixel import serve
    except ImportError as exc:
        _err(f"mdnkit: the pixel is not available: {exc}")
        return EXIT_FAILED
    # `mdnkit --db X pixel serve`: the global option wins over serve's default.
    if args.global_db and getattr(args, "db", DEFAULT_DB) == DEFAULT_DB:
        args.db = args.global_db
    return int(serve.run(args))


# ---------------------------------------------------------------------------
# The demo


# (file, envelope id it was sent with)
_DEMO_SENT = (
    ("sent-1.eml", None),
    ("sent-2.eml", None),
    ("sent-3.eml", "ENV-contract-v2"),
)
_DEMO_RECEIPTS = (
    ("read-receipt.eml", "Bob's client asked him, then sent a read receipt"),
    ("mdn-automatic.eml", "Carol's client sent a receipt without asking (no Original-Message-ID)"),
    ("dsn-failed.eml", "Dave's mailbox does not exist: a bounce"),
    ("dsn-delivered.eml", "Erin's server confirms delivery"),
    ("dsn-delayed.eml", "a relay is still trying Grace (the DSN names only the envelope id)"),
    ("mdn-early.eml", "Ivan's receipt arrives before 'Office move' is recorded"),
    ("read-receipt.eml", "Bob's receipt again (a duplicate)"),
)


def _sample(name: str) -> bytes:
    return (importlib.resources.files("mdnkit") / "samples" / name).read_bytes()


def _cmd_demo(args: argparse.Namespace) -> int:
    from .tracker import Tracker

    with (
        tempfile.TemporaryDirectory(prefix="mdnkit-demo-") as directory,
        Tracker(os.path.join(directory, "demo.db")) as tracker,
    ):
        run_demo(tracker, sys.stdout)
    return EXIT_OK


def run_demo(tracker: Tracker, out: TextIO) -> None:
    """The demo's story on *tracker*, told on *out*."""
    for name, envelope_id in _DEMO_SENT:
        sent = tracker.record_sent(_sample(name), envelope_id=envelope_id)
        print(f"sent      {sent.subject!s:24} to {len(sent.recipients)} recipients", file=out)
    new: list[Event] = []
    stop = tracker.subscribe(new.append)
    for name, story in _DEMO_RECEIPTS:
        new.clear()
        events = tracker.ingest(_sample(name))
        if not new:
            state = "already kept: nothing added"
        elif all(e.message_id is None for e in events):
            state = "unmatched, kept"
        else:
            state = "tied"
        print(f"received  {name:20} {story} -> {state}", file=out)
    stop()
    waiting = list(tracker.unmatched())
    print(f"waiting   {len(waiting)} receipt(s) for a message not recorded yet", file=out)
    late = tracker.record_sent(_sample("sent-4.eml"))
    print(f"sent      {late.subject!s:24} recorded late: its waiting receipt is tied", file=out)
    print(
        f"events    {sum(1 for _ in tracker.events())} kept (the duplicate added nothing)", file=out
    )
    for message in tracker.sent_messages():
        print("", file=out)
        print(format_status(tracker.status(message.message_id)), file=out)


# ---------------------------------------------------------------------------
# Formatting


def _clean(text: object) -> str:
    """*text* with control characters shown as '?': safe to print to a terminal."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


def _when(value: datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="minutes") if value else "-"


def _describe(report: MDN | DSN) -> str:
    """A report as indented text: kind, reference, fields, recipients, defects."""
    from .model import DSN, MDN

    lines = [
        f"  kind: {'mdn (read receipt)' if isinstance(report, MDN) else 'dsn (delivery report)'}"
    ]

    def add(label: str, value: object) -> None:
        if value is not None and value != "":
            lines.append(f"  {label}: {_clean(value)}")

    ref = report.message_ref
    if ref is not None:
        about = f"<{ref.message_id}>" if ref.message_id else f"envelope id {ref.envelope_id}"
        add("about", f"{about} (by {ref.by})")
    else:
        add("about", "unknown (no reference to the sent message)")
    add("message-id", report.message_id and f"<{report.message_id}>")
    add("date", report.date.isoformat() if report.date else None)
    add("from", report.sender)
    add("subject", report.subject)
    if isinstance(report, MDN):
        add("reporting-ua", report.reporting_ua)
        add("mdn-gateway", report.mdn_gateway)
        add("original-recipient", report.original_recipient)
        add("final-recipient", report.final_recipient)
        add("original-message-id", report.original_message_id and f"<{report.original_message_id}>")
        add("disposition", report.disposition)
        if report.disposition is not None:
            add(
                "sent",
                "automatically (no user consent asked)"
                if report.disposition.automatic
                else "manually (the user allowed it)",
            )
        for error in report.errors:
            add("error", error)
    elif isinstance(report, DSN):
        add("original-envelope-id", report.original_envelope_id)
        add("reporting-mta", report.reporting_mta)
        add("arrival-date", report.arrival_date.isoformat() if report.arrival_date else None)
        lines.append(f"  recipients: {len(report.recipients)}")
        for rcpt in report.recipients:
            parts = [
                rcpt.address or "(no address)",
                str(rcpt.action or "(no action)"),
                str(rcpt.status or "-"),
            ]
            if rcpt.diagnostic_code is not None:
                parts.append(str(rcpt.diagnostic_code))
            lines.append("    " + _clean("  ".join(parts)))
    for field, value in report.extension_fields:
        add(field, value)
    if report.defects:
        lines.append(f"  defects: {len(report.defects)}")
        lines.extend(f"    {_clean(d)}" for d in report.defects)
    else:
        lines.append("  defects: none")
    return "\n".join(lines)


_HEAD = ("recipient", "delivery", "read", "when", "automatic", "evidence")


def format_status(status: MessageStatus) -> str:
    """A message's status as a table: recipient, delivery, read, when, automatic, evidence."""
    sent = status.sent
    title = f"<{status.message_id}>"
    if sent is not None:
        title += f"  {sent.subject or ''}  sent {_when(sent.sent_at)}"
    rows = [_HEAD, *(_row(r) for r in status.recipients)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEAD))]
    lines = [_clean(title)]
    for row in rows:
        lines.append(
            _clean("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        )
    notes = []
    if any(r.delivery_inferred for r in status.recipients):
        notes.append("* delivery inferred from a read receipt or open; no server reported it")
    if any(not r.listed for r in status.recipients):
        notes.append("+ named by a receipt but not among the recipients recorded")
    if status.unattributed:
        notes.append(f"{len(status.unattributed)} event(s) name no recipient that could be matched")
    lines.extend(notes)
    return "\n".join(lines)


def _row(r: RecipientStatus) -> tuple[str, ...]:
    delivery = "-"
    if r.delivery is not None:
        delivery = str(r.delivery) + ("*" if r.delivery_inferred else "")
        if (r.dsn_status and r.delivery is not EventType.DELIVERED) or (
            r.dsn_status and not r.delivery_inferred
        ):
            delivery += f" {r.dsn_status}"
    read = str(r.read) if r.read is not None else "-"
    if r.opens:
        read += f" (opens: {r.opens})"
    when = r.read_at or r.delivery_at
    automatic = {True: "yes", False: "no", None: "-"}[r.read_automatic]
    evidence = ",".join(str(s) for s in r.sources)
    if r.correlated_by:
        evidence += " by " + ",".join(r.correlated_by)
    return (
        r.recipient + ("" if r.listed else " +"),
        delivery,
        read,
        _when(when),
        automatic,
        evidence or "-",
    )


def _print_summary(tracker: Tracker, *, as_json: bool) -> int:
    statuses = (tracker.status(s.message_id) for s in tracker.sent_messages())
    unmatched = sum(1 for _ in tracker.unmatched())
    if as_json:
        print(
            json.dumps(
                {"messages": [s.to_dict() for s in statuses], "unmatched": unmatched},
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    head = (
        "message-id",
        "sent",
        "rcpts",
        "delivered",
        "failed",
        "delayed",
        "read",
        "opened",
        "subject",
    )
    rows = [head]
    for s in statuses:
        sent = s.sent
        rows.append(
            (
                f"<{s.message_id}>",
                _when(sent.sent_at if sent else None),
                str(len(s.recipients)),
                str(s.delivered),
                str(s.failed),
                str(s.delayed),
                str(s.read),
                str(s.opened),
                (sent.subject if sent else None) or "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        print(_clean("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()))
    print(f"{unmatched} unmatched receipt(s)")
    return EXIT_OK


# ---------------------------------------------------------------------------
# Sources: .eml files, mboxes, Maildirs


def _err(text: str) -> None:
    print(_clean(text) if "\n" not in text else text, file=sys.stderr)


def _read_file(name: str) -> bytes | None:
    """The bytes of a message file, or None after saying why not."""
    try:
        size = os.path.getsize(name)
        if size > DEFAULT_LIMITS.max_input_bytes:
            _err(f"{name}: too large ({size} bytes; the limit is {DEFAULT_LIMITS.max_input_bytes})")
            return None
        with open(name, "rb") as handle:
            return handle.read()
    except OSError as exc:
        _err(f"{name}: cannot read: {exc.strerror or exc}")
        return None


def _messages(sources: Sequence[str], progress: _Progress) -> Iterator[tuple[str, bytes | None]]:
    """``(label, bytes)`` for every message in *sources*; bytes None for one that failed.

    A directory with ``cur`` and ``new`` is a Maildir; a file starting with
    ``From `` an mbox; any other file one message.
    """
    for source in sources:
        try:
            if os.path.isdir(source):
                if not (
                    os.path.isdir(os.path.join(source, "cur"))
                    and os.path.isdir(os.path.join(source, "new"))
                ):
                    _err(f"{source}: a directory, but not a Maildir (no cur/ and new/)")
                    yield source, None
                    continue
                box: mailbox.Mailbox[mailbox.Message] = mailbox.Maildir(source, create=False)
            else:
                with open(source, "rb") as handle:
                    start = handle.read(5)
                if start != b"From ":
                    progress.tick()
                    yield source, _read_file(source)
                    continue
                box = mailbox.mbox(source, create=False)
            yield from _mailbox_messages(source, box, progress)
        except OSError as exc:
            _err(f"{source}: cannot read: {exc.strerror or exc}")
            yield source, None


def _mailbox_messages(
    source: str, box: mailbox.Mailbox[mailbox.Message], progress: _Progress
) -> Iterator[tuple[str, bytes | None]]:
    try:
        keys = list(box.iterkeys())
        for key in keys:
            label = f"{source}[{key}]"
            progress.tick()
            try:
                yield label, box.get_bytes(key)
            except (OSError, KeyError, mailbox.Error) as exc:
                _err(f"{label}: cannot read: {exc}")
                yield label, None
    finally:
        with contextlib.suppress(OSError):
            box.close()


def _message_id_of(data: bytes) -> str | None:
    return _ids.canonical(read_headers(data).get("Message-ID"))


class _Progress:
    """A count on stderr, rewritten in place, only when stderr is a terminal."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.count = 0
        self.shown = False
        self.enabled = sys.stderr.isatty()

    def tick(self) -> None:
        self.count += 1
        if self.enabled and self.count % _PROGRESS_EVERY == 0:
            sys.stderr.write(f"\r{self.verb}: {self.count} messages")
            sys.stderr.flush()
            self.shown = True

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.shown:
            sys.stderr.write("\n")
