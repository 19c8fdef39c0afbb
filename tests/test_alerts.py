"""Alerts reach a local SMTP server and a local webhook receiver: a failed run sends exactly
one alert per channel, failed checks one per run, nothing leaves without a channel set."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as email_policy
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from ingest.settings import AlertSettings
from orchestration.alerts import (
    Alert,
    AlertNotSent,
    alert_on_check_failure,
    alert_on_run_failure,
    send,
)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[_Inbox, int]]:
    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict], str]]:
    posts: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posts.append({"path": self.path, **json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield posts, f"http://127.0.0.1:{server.server_address[1]}/hooks/gogaek"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def channels(
    smtp_inbox: tuple[_Inbox, int], webhook: tuple[list[dict], str], monkeypatch: pytest.MonkeyPatch
) -> tuple[_Inbox, list[dict]]:
    inbox, port = smtp_inbox
    posts, url = webhook
    monkeypatch.setenv("GOGAEK_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GOGAEK_ALERT_SMTP_PORT", str(port))
    monkeypatch.setenv("GOGAEK_ALERT_EMAIL_TO", "ops@example.com, dba@example.com")
    monkeypatch.setenv("GOGAEK_ALERT_WEBHOOK_URL", url)
    return inbox, posts


def _tick(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None
) -> str | None:
    """One daemon tick of `sensor`; the cursor it leaves."""
    data = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))
    return data.cursor


@dg.op
def load_the_erp_export() -> None:
    raise RuntimeError("the ERP export is truncated (customer 900101-1234567 on line 7)")


@dg.job
def induced_failure() -> None:
    load_the_erp_export()


@dg.op
def fine() -> None:
    pass


@dg.job
def goes_well() -> None:
    fine()


def test_a_failing_run_sends_exactly_one_alert(channels: tuple[_Inbox, list[dict]]) -> None:
    inbox, posts = channels
    with dg.instance_for_test() as instance:
        old = induced_failure.execute_in_process(instance=instance, raise_on_error=False)
        cursor = _tick(alert_on_run_failure, instance, None)  # first tick: from now on
        assert (inbox.messages, posts) == ([], [])  # a UI start alerts nothing about the past

        failed = induced_failure.execute_in_process(instance=instance, raise_on_error=False)
        goes_well.execute_in_process(instance=instance)
        assert not failed.success and old.run_id != failed.run_id
        cursor = _tick(alert_on_run_failure, instance, cursor)
        _tick(alert_on_run_failure, instance, cursor)  # the next tick sends nothing again

    assert len(inbox.messages) == 1 and len(posts) == 1
    mail = inbox.messages[0]
    assert mail["Subject"] == "[gogaek] run of induced_failure failed"
    # The headers every mail server expects, as the standard library reads them.
    sent_at = parsedate_to_datetime(mail["Date"])
    assert sent_at.tzinfo is not None
    assert abs((datetime.now(UTC) - sent_at).total_seconds()) < 300
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", mail["Message-ID"]), mail["Message-ID"]
    assert mail["To"] == "ops@example.com, dba@example.com"
    body = mail.get_content()
    assert failed.run_id in body and "load_the_erp_export" in body
    assert "the ERP export is truncated" in body
    assert "900101-1234567" not in body and "rrn_sha256:" in body  # the personal-data gate
    post = posts[0]
    assert post["path"] == "/hooks/gogaek"
    assert (post["kind"], post["run_id"], post["job_name"]) == (
        "run_failure",
        failed.run_id,
        "induced_failure",
    )
    assert post["url"] == f"http://127.0.0.1:3000/runs/{failed.run_id}"
    assert "900101-1234567" not in json.dumps(post)


@dg.asset
def contacts() -> None:
    pass


@dg.asset_check(asset=contacts, name="keys_unique")
def keys_unique() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR)


@dg.asset_check(asset=contacts, name="mobile_valid")
def mobile_valid() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=contacts, name="address_present")
def address_present() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def test_failed_checks_send_one_alert_per_run(
    channels: tuple[_Inbox, list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, posts = channels
    defs = dg.Definitions(
        assets=[contacts], asset_checks=[keys_unique, mobile_valid, address_present]
    )
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        job.execute_in_process(instance=instance)
        cursor = _tick(alert_on_check_failure, instance, None)  # first tick: from now on
        assert posts == []

        run = job.execute_in_process(instance=instance)
        cursor = _tick(alert_on_check_failure, instance, cursor)
        cursor = _tick(alert_on_check_failure, instance, cursor)
        assert len(posts) == 1 and len(inbox.messages) == 1
        assert posts[0]["run_id"] == run.run_id
        # Blocking-severity (ERROR) checks by default; the WARN and the passed one stay quiet.
        assert "contacts keys_unique (ERROR)" in posts[0]["text"]
        assert "mobile_valid" not in posts[0]["text"] and "address_present" not in posts[0]["text"]

        monkeypatch.setenv("GOGAEK_ALERT_CHECK_SEVERITY", "warn")
        job.execute_in_process(instance=instance)
        _tick(alert_on_check_failure, instance, cursor)
        assert len(posts) == 2 and "contacts mobile_valid (WARN)" in posts[1]["text"]


def test_no_channel_sends_nothing_and_a_dead_channel_is_reported(
    webhook: tuple[list[dict], str],
) -> None:
    posts, url = webhook
    alert = Alert(
        "run_failure", "[gogaek] test", "text", "r1", "daily_refresh", "http://ui/runs/r1"
    )
    assert not AlertSettings.from_env({}).any_on
    assert send(alert, AlertSettings.from_env({})) == []
    dead_smtp = {"GOGAEK_ALERT_SMTP_HOST": "127.0.0.1", "GOGAEK_ALERT_SMTP_PORT": str(_free_port())}
    dead_smtp["GOGAEK_ALERT_EMAIL_TO"] = "ops@example.com"
    # One channel down: the other still gets it.
    assert send(alert, AlertSettings.from_env({**dead_smtp, "GOGAEK_ALERT_WEBHOOK_URL": url})) == [
        "webhook"
    ]
    assert len(posts) == 1
    # Every channel down: the tick fails, so Dagster tries again.
    with pytest.raises(AlertNotSent, match="email"):
        send(alert, AlertSettings.from_env(dead_smtp))
    with pytest.raises(ValueError, match="GOGAEK_ALERT_CHECK_SEVERITY"):
        AlertSettings.from_env({"GOGAEK_ALERT_CHECK_SEVERITY": "info"})


def test_alert_sensors_are_off_without_a_channel() -> None:
    from orchestration.definitions import defs

    for name in ("alert_on_run_failure", "alert_on_check_failure"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.STOPPED  # no GOGAEK_ALERT_* here
