"""The command line, run in-process with main([...]) and once as a real process."""

from __future__ import annotations

import importlib.resources
import json
import mailbox
import os
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mdnkit import parse
from mdnkit.cli import EXIT_FAILED, EXIT_OK, EXIT_STORE, EXIT_USAGE, main


def _sample(name: str) -> bytes:
    return (importlib.resources.files("mdnkit") / "samples" / name).read_bytes()


def _write(path: Path, name: str) -> Path:
    path.write_bytes(_sample(name))
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------
# parse


READ_RECEIPT_TEXT = """\
{name}:
  kind: mdn (read receipt)
  about: <q1-figures.7f3a@mail.example.com> (by original-message-id)
  message-id: <mdn.0b51@example.net>
  date: 2026-03-03T09:40:02+01:00
  from: bob@example.net
  subject: Read: Q1 figures for review
  reporting-ua: pc-bob.example.net; ExampleMail 4.2
  original-recipient: rfc822; bob@example.net
  final-recipient: rfc822; bob@example.net
  original-message-id: <q1-figures.7f3a@mail.example.com>
  disposition: manual-action/MDN-sent-manually; displayed
  sent: manually (the user allowed it)
  defects: none
"""

DSN_DELAYED_TEXT = """\
{name}:
  kind: dsn (delivery report)
  about: envelope id ENV-contract-v2 (by envelope-id)
  message-id: <202603031431.23VEVCx4012345@relay.example.com>
  date: 2026-03-03T15:31:12+01:00
  from: MAILER-DAEMON@relay.example.com
  subject: Warning: could not send message for past 4 hours
  original-envelope-id: ENV-contract-v2
  reporting-mta: dns; relay.example.com
  arrival-date: 2026-03-03T11:30:04+01:00
  recipients: 1
    grace@example.com  delayed  4.4.1
  defects: none
"""


def test_parse_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mdn = _write(tmp_path / "mdn.eml", "read-receipt.eml")
    dsn = _write(tmp_path / "dsn.eml", "dsn-delayed.eml")
    plain = _write(tmp_path / "plain.eml", "sent-1.eml")
    code, out, err = _run(capsys, "parse", str(mdn), str(plain), str(dsn))
    assert (code, err) == (EXIT_OK, "")
    assert out == (
        READ_RECEIPT_TEXT.format(name=mdn)
        + f"{plain}: not a report\n"
        + DSN_DELAYED_TEXT.format(name=dsn)
    )


def test_parse_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mdn = _write(tmp_path / "mdn.eml", "read-receipt.eml")
    plain = _write(tmp_path / "plain.eml", "sent-2.eml")
    code, out, err = _run(capsys, "parse", "--json", str(mdn), str(plain))
    assert (code, err) == (EXIT_OK, "")
    report = parse(_sample("read-receipt.eml"))
    assert report is not None
    assert [json.loads(line) for line in out.splitlines()] == [
        {"file": str(mdn), **report.to_dict()},
        {"file": str(plain), "kind": None},
    ]


def test_parse_goes_on_after_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mdn = _write(tmp_path / "mdn.eml", "read-receipt.eml")
    missing = tmp_path / "missing.eml"
    code, out, err = _run(capsys, "parse", str(missing), str(tmp_path), str(mdn))
    assert code == EXIT_FAILED
    assert out == READ_RECEIPT_TEXT.format(name=mdn)
    assert err == (
        f"{missing}: cannot read: No such file or directory\n"
        f"{tmp_path}: cannot read: Is a directory\n"
    )


def test_hostile_values_cannot_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _sample("read-receipt.eml").replace(
        b"Reporting-UA: pc-bob.example.net; ExampleMail 4.2",
        b"Reporting-UA: evil\x1b]0;owned\x07\x1b[2J; Mailer",
    )
    path = tmp_path / "evil.eml"
    path.write_bytes(text)
    code, out, _ = _run(capsys, "parse", str(path))
    assert code == EXIT_OK
    assert "\x1b" not in out
    assert "\x07" not in out


# ---------------------------------------------------------------------------
# record, ingest, status


def _mbox(path: Path, *names: str) -> Path:
    box = mailbox.mbox(path)
    for name in names:
        box.add(_sample(name))
    box.close()
    return path


def _maildir(path: Path, *names: str) -> Path:
    box = mailbox.Maildir(path)
    for name in names:
        box.add(_sample(name))
    box.close()
    return path


def test_the_loop_from_files_mbox_and_maildir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "r.db")
    sent = _mbox(tmp_path / "Sent", "sent-1.eml", "sent-2.eml")
    code, out, err = _run(
        capsys, "--db", db, "record", str(sent), str(_write(tmp_path / "s4.eml", "sent-4.eml"))
    )
    assert (code, out, err) == (EXIT_OK, "", "recorded 3 message(s), 0 already known, 0 failed\n")
    code, _, err = _run(capsys, "record", "--db", db, str(sent))
    assert (code, err) == (EXIT_OK, "recorded 0 message(s), 2 already known, 0 failed\n")

    inbox = _maildir(tmp_path / "Inbox", "read-receipt.eml", "dsn-failed.eml", "sent-3.eml")
    loose = _write(tmp_path / "auto.eml", "mdn-automatic.eml")
    code, out, err = _run(capsys, "--db", db, "ingest", str(inbox), str(loose))
    assert (code, out) == (EXIT_OK, "")
    assert err == (
        "read 4 message(s): 3 with reports, 1 without; 3 new event(s), 3 tied, 0 unmatched; 0 failed\n"
    )
    code, _, err = _run(capsys, "--db", db, "ingest", str(inbox))
    assert err == (
        "read 3 message(s): 2 with reports, 1 without; 0 new event(s), 0 tied, 0 unmatched; 0 failed\n"
    )

    code, out, err = _run(capsys, "--db", db, "status", "q1-figures.7f3a@mail.example.com")
    assert (code, err) == (EXIT_OK, "")
    assert out == (
        "<q1-figures.7f3a@mail.example.com>  Q1 figures for review  sent 2026-03-03 09:12+01:00\n"
        "recipient          delivery      read       when                    automatic  evidence\n"
        "bob@example.net    delivered*    displayed  2026-03-03 09:40+01:00  no         mdn by original-message-id\n"
        "carol@example.org  delivered*    displayed  2026-03-03 09:13+01:00  yes        mdn by in-reply-to\n"
        "dave@example.net   failed 5.1.1  -          2026-03-03 09:13+01:00  -          dsn by attached-original\n"
        "* delivery inferred from a read receipt or open; no server reported it\n"
    )
    code, out, err = _run(capsys, "--db", db, "status")
    assert (code, err) == (EXIT_OK, "")
    assert out == SUMMARY


SUMMARY = """\
message-id                           sent                    rcpts  delivered  failed  delayed  read  opened  subject
<q1-figures.7f3a@mail.example.com>   2026-03-03 09:12+01:00  3      2          1       0        2     0       Q1 figures for review
<lunch.19c2@mail.example.com>        2026-03-03 10:05+01:00  2      0          0       0        0     0       Team lunch on Thursday
<office-move.55d0@mail.example.com>  2026-03-03 15:45+01:00  2      0          0       0        0     0       Office move
0 unmatched receipt(s)
"""


def test_status_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mdnkit import Tracker

    db = tmp_path / "r.db"
    with Tracker(db) as tracker:
        tracker.record_sent(_sample("sent-2.eml"))
        tracker.ingest(_sample("dsn-delivered.eml"))
        tracker.ingest(_sample("mdn-early.eml"))
        expected = tracker.status("lunch.19c2@mail.example.com").to_dict()
    code, out, _ = _run(
        capsys, "--db", str(db), "status", "--json", "<lunch.19c2@mail.example.com>"
    )
    assert code == EXIT_OK
    assert json.loads(out) == expected
    assert expected["counts"] == {
        "recipients": 2,
        "delivered": 1,
        "failed": 0,
        "delayed": 0,
        "displayed": 0,
        "read": 0,
        "opened": 0,
    }
    code, out, _ = _run(capsys, "--db", str(db), "status", "--json")
    assert json.loads(out) == {"messages": [expected], "unmatched": 1}


def test_status_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "r.db"
    assert _run(capsys, "--db", str(db), "status") == (
        EXIT_FAILED,
        "",
        f"mdnkit: no store at {db} (record or ingest something first)\n",
    )
    assert (
        _run(capsys, "--db", str(db), "record", str(_write(tmp_path / "s.eml", "sent-1.eml")))[0]
        == EXIT_OK
    )
    assert _run(capsys, "--db", str(db), "status", "nobody@nowhere") == (
        EXIT_FAILED,
        "",
        "mdnkit: unknown message: 'nobody@nowhere'\n",
    )


def test_inputs_that_fail_are_reported_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "r.db")
    no_id = tmp_path / "no-id.eml"
    no_id.write_bytes(b"To: a@b.example\r\nSubject: draft\r\n\r\nno Message-ID\r\n")
    not_maildir = tmp_path / "folder"
    not_maildir.mkdir()
    good = _write(tmp_path / "s.eml", "sent-1.eml")
    code, out, err = _run(
        capsys,
        "--db",
        db,
        "record",
        str(no_id),
        str(not_maildir),
        str(tmp_path / "gone"),
        str(good),
    )
    assert (code, out) == (EXIT_FAILED, "")
    assert err == (
        f"{no_id}: the message has no Message-ID: it could never be tied to a receipt\n"
        f"{not_maildir}: a directory, but not a Maildir (no cur/ and new/)\n"
        f"{tmp_path / 'gone'}: cannot read: No such file or directory\n"
        "recorded 1 message(s), 0 already known, 3 failed\n"
    )


def test_foreign_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    code, out, err = _run(
        capsys, "--db", str(db), "ingest", str(_write(tmp_path / "m.eml", "read-receipt.eml"))
    )
    assert (code, out) == (EXIT_STORE, "")
    assert err == f"mdnkit: {db} is an SQLite database of another application; refusing to use it\n"


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["parse"], ["status", "a", "b"], ["pixel"]])
def test_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith("usage: mdnkit")


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--help")
    assert code == EXIT_OK
    assert "exit codes: 0 ok, 1 some inputs failed, 2 usage error, 3 store unusable" in out


def test_pixel_serve_is_wired(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "pixel", "serve", "--help")
    assert code == EXIT_OK
    assert out.startswith("usage: mdnkit pixel serve")
    assert "--port" in out


# ---------------------------------------------------------------------------
# demo


DEMO = """\
sent      Q1 figures for review    to 3 recipients
sent      Team lunch on Thursday   to 2 recipients
sent      Contract draft v2        to 2 recipients
received  read-receipt.eml     Bob's client asked him, then sent a read receipt -> tied
received  mdn-automatic.eml    Carol's client sent a receipt without asking (no Original-Message-ID) -> tied
received  dsn-failed.eml       Dave's mailbox does not exist: a bounce -> tied
received  dsn-delivered.eml    Erin's server confirms delivery -> tied
received  dsn-delayed.eml      a relay is still trying Grace (the DSN names only the envelope id) -> tied
received  mdn-early.eml        Ivan's receipt arrives before 'Office move' is recorded -> unmatched, kept
received  read-receipt.eml     Bob's receipt again (a duplicate) -> already kept: nothing added
waiting   1 receipt(s) for a message not recorded yet
sent      Office move              recorded late: its waiting receipt is tied
events    6 kept (the duplicate added nothing)

<q1-figures.7f3a@mail.example.com>  Q1 figures for review  sent 2026-03-03 09:12+01:00
recipient          delivery      read       when                    automatic  evidence
bob@example.net    delivered*    displayed  2026-03-03 09:40+01:00  no         mdn by original-message-id
carol@example.org  delivered*    displayed  2026-03-03 09:13+01:00  yes        mdn by in-reply-to
dave@example.net   failed 5.1.1  -          2026-03-03 09:13+01:00  -          dsn by attached-original
* delivery inferred from a read receipt or open; no server reported it

<lunch.19c2@mail.example.com>  Team lunch on Thursday  sent 2026-03-03 10:05+01:00
recipient          delivery         read  when                    automatic  evidence
erin@example.org   delivered 2.0.0  -     2026-03-03 10:05+01:00  -          dsn by attached-original
frank@example.net  -                -     -                       -          -

<contract-v2.a01e@mail.example.com>  Contract draft v2  sent 2026-03-03 11:30+01:00
recipient          delivery       read  when                    automatic  evidence
grace@example.com  delayed 4.4.1  -     2026-03-03 15:31+01:00  -          dsn by envelope-id
heidi@example.net  -              -     -                       -          -

<office-move.55d0@mail.example.com>  Office move  sent 2026-03-03 15:45+01:00
recipient         delivery    read       when                    automatic  evidence
ivan@example.org  delivered*  displayed  2026-03-03 15:47+01:00  no         mdn by original-message-id
judy@example.com  -           -          -                       -          -
* delivery inferred from a read receipt or open; no server reported it
"""


def test_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "demo") == (EXIT_OK, DEMO, "")


@pytest.mark.slow
def test_demo_as_a_real_process(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mdnkit", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, DEMO, "")
    assert list(tmp_path.iterdir()) == []  # the temporary store is gone


def test_output_closed_early_is_not_a_crash(tmp_path: Path) -> None:
    # `mdnkit demo | head -1`: the reader goes away while mdnkit still writes.
    process = subprocess.run(
        f"{shlex.quote(sys.executable)} -m mdnkit demo | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert process.stdout.startswith("sent")
    assert "Traceback" not in process.stderr
    assert "BrokenPipeError" not in process.stderr
