"""``mdnkit pixel serve``: keys from the environment or a file, a real server."""

from __future__ import annotations

import argparse
import threading
import urllib.request
from pathlib import Path

import pytest

from mdnkit import RequestError, Tracker
from mdnkit.pixel import GIF
from mdnkit.pixel.serve import ENV_KEYS, add_arguments, build_server, parse_keys, run

HEX_KEY = "00112233445566778899aabbccddeeff"
KEY = bytes.fromhex(HEX_KEY)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mdnkit pixel serve")
    add_arguments(p)
    return p


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        (HEX_KEY, [KEY]),
        (f"hex:{HEX_KEY.upper()}", [KEY]),
        ("base64:ABEiM0RVZneImaq7zN3u/w==", [KEY]),
        ("ABEiM0RVZneImaq7zN3u_w", [KEY]),  # URL-safe, no padding
        (f" {HEX_KEY} , base64:{'A' * 22}\n", [KEY, bytes(16)]),
        (f"{HEX_KEY}\n{'ff' * 20}\n\n", [KEY, b"\xff" * 20]),
    ],
)
def test_parse_keys(text: str, keys: list[bytes]) -> None:
    assert parse_keys(text) == keys


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", f"no pixel keys: set {ENV_KEYS} or pass --keys-file"),
        (" , ", f"no pixel keys: set {ENV_KEYS} or pass --keys-file"),
        ("rot13:abc", "key 0: unknown encoding 'rot13' (use hex: or base64:)"),
        (f"{HEX_KEY},hex:xyz", "key 1 is neither valid hex nor valid base64"),
        ("base64:@@@@", "key 0 is neither valid hex nor valid base64"),
    ],
)
def test_parse_keys_errors(text: str, message: str) -> None:
    with pytest.raises(RequestError) as info:
        parse_keys(text)
    assert str(info.value) == message


def test_arguments() -> None:
    args = parser().parse_args(["--base-url", "https://t.example.org/o/"])
    assert vars(args) == {
        "db": "receipts.db",
        "host": "127.0.0.1",
        "port": 8025,
        "base_url": "https://t.example.org/o/",
        "keys_file": None,
        "client_address": "truncate",
        "background": False,
        "trust_forwarded": False,
    }


def test_keys_are_not_a_command_line_option() -> None:
    # Command lines are visible to every user of the machine: only a file path.
    options = {o for action in parser()._actions for o in action.option_strings}
    assert {o for o in options if "key" in o} == {"--keys-file"}


def _serve_one(args: argparse.Namespace, environ: dict[str, str]) -> tuple[int, bytes]:
    server = build_server(args, environ)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/o/x.gif", timeout=10) as response:
            return response.status, response.read()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_server_from_environment(tmp_path: Path) -> None:
    db = tmp_path / "receipts.db"
    args = parser().parse_args(
        ["--db", str(db), "--port", "0", "--base-url", "http://127.0.0.1/o/"]
    )
    assert _serve_one(args, {ENV_KEYS: HEX_KEY}) == (200, GIF)
    assert db.exists()


def test_server_records_a_genuine_open(tmp_path: Path) -> None:
    db = tmp_path / "receipts.db"
    keys = tmp_path / "keys"
    keys.write_text(f"hex:{HEX_KEY}\n", encoding="utf-8")
    args = parser().parse_args(
        [
            "--db",
            str(db),
            "--port",
            "0",
            "--base-url",
            "http://127.0.0.1/o/",
            "--keys-file",
            str(keys),
        ]
    )
    server = build_server(args, {})
    assert server.tracker is not None
    from mdnkit.pixel import Pixel

    url = Pixel(server.tracker, keys=[KEY], base_url="http://x.invalid/o/").url(
        "m1@example.org", "bob@example.net"
    )
    path = url[len("http://x.invalid") :]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            assert response.read() == GIF
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert server.tracker is None  # closed with the server
    with Tracker(db) as tracker:
        (event,) = tracker.events()
        assert (event.message_id, event.recipient) == ("m1@example.org", "bob@example.net")


def test_run_without_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_KEYS, raising=False)
    args = parser().parse_args(
        ["--db", str(tmp_path / "r.db"), "--port", "0", "--base-url", "https://t.example.org/"]
    )
    assert run(args) == 2
    assert capsys.readouterr().err == (
        f"mdnkit pixel serve: no pixel keys: set {ENV_KEYS} or pass --keys-file\n"
    )
    assert not (tmp_path / "r.db").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the keys file {path}: [Errno 2] No such file or directory: '{path}'"),
        ("x" * 70_000, "the keys file {path} is too large to be a keys file"),
        (
            "c2hvcnQ",
            "key 0 is 5 bytes long; a key needs at least 16 random bytes (secrets.token_bytes(32))",
        ),
    ],
)
def test_run_with_a_bad_keys_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "keys"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    args = parser().parse_args(
        [
            "--db",
            str(tmp_path / "r.db"),
            "--port",
            "0",
            "--base-url",
            "https://t.example.org/",
            "--keys-file",
            str(path),
        ]
    )
    assert run(args) == 2
    assert capsys.readouterr().err == "mdnkit pixel serve: " + message.format(path=path) + "\n"


def test_run_serves_until_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mdnkit.pixel import serve

    def interrupted(self: object, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt

    monkeypatch.setenv(ENV_KEYS, HEX_KEY)
    monkeypatch.setattr(serve.PixelServer, "serve_forever", interrupted)
    args = parser().parse_args(
        ["--db", str(tmp_path / "r.db"), "--port", "0", "--base-url", "https://t.example.org/"]
    )
    assert run(args) == 0
    err = capsys.readouterr().err
    assert err.startswith("pixel endpoint on http://127.0.0.1:")
    assert err.endswith(" (Ctrl-C to stop)\n")


@pytest.mark.parametrize("background", [False, True])
def test_real_process_keeps_the_open_and_stops_on_sigterm(tmp_path: Path, background: bool) -> None:
    import os
    import signal
    import subprocess
    import sys

    from mdnkit.pixel import Pixel

    db = tmp_path / "receipts.db"
    with Tracker(db) as tracker:
        url = Pixel(tracker, keys=[KEY], base_url="http://x.invalid/o/").url(
            "m2@example.org", "carol@example.com"
        )
    command = [sys.executable, "-m", "mdnkit", "--db", str(db), "pixel", "serve", "--port", "0"]
    command += ["--base-url", "http://127.0.0.1/o/"] + (["--background"] if background else [])
    env = {**os.environ, ENV_KEYS: f"hex:{HEX_KEY}"}
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stderr is not None
            line = process.stderr.readline()
            assert line.startswith("pixel endpoint on http://127.0.0.1:")
            port = int(line.split(":")[2].split()[0])
            path = url[len("http://x.invalid") :]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
                assert answer.read() == GIF
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
    with Tracker(db) as tracker:
        (event,) = tracker.events()
        assert (event.message_id, event.recipient) == ("m2@example.org", "carol@example.com")
