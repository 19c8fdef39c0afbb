"""Alerts for operators: a run that failed, a check that failed — by e-mail (SMTP) and/or a
webhook (an HTTP POST of JSON, e.g. a Slack or Teams incoming webhook).

Channels are settings (`GOGAEK_ALERT_*`, ingest/settings.py `AlertSettings`), off unless set.
Two sensors send them while the Dagster daemon runs; both start from "now" on their first tick,
so starting the UI sends nothing about old runs:
- `alert_on_run_failure`: Dagster's run-failure sensor, over every run of the instance (the
  schedule's, the sensor's, ad-hoc UI runs and `make demo`'s in-process runs alike);
- `alert_on_check_failure`: failed asset checks (blocking ones by default; every failed check
  with `GOGAEK_ALERT_CHECK_SEVERITY=warn`), one alert per run listing them.
Each alert goes out once: the sensors' cursors move past what they reported. A channel that
fails is logged in the tick; when every channel fails the tick fails and Dagster tries again.
Texts pass the personal-data gate (an RRN becomes its token) before they leave the machine.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import dagster as dg
from dagster._core.event_api import RunStatusChangeEventType
from dagster._core.events import DagsterEventType
from dagster._utils.error import SerializableErrorInfo

from ingest.personal_data import mask_rrns
from ingest.settings import AlertSettings, Settings

_TIMEOUT_SECONDS = 10
_MAX_DETAIL_CHARS = 400


class AlertNotSent(Exception):
    """No channel took the alert."""


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failure | check_failure
    subject: str
    text: str
    run_id: str
    job_name: str
    url: str


def _gated(text: str) -> str:
    return mask_rrns(text, Settings.from_env().rrn_salt)


def _send_email(alert: Alert, settings: AlertSettings) -> None:
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = settings.email_from
    message["To"] = ", ".join(settings.email_to)
    # RFC 5322 requires both; mail servers and spam filters reject or bin messages without.
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(
        idstring=alert.run_id[:8] or None, domain=settings.email_from.rpartition("@")[2] or None
    )
    message.set_content(f"{alert.text}\n\n{alert.url}\n")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _post_webhook(alert: Alert, settings: AlertSettings) -> None:
    # `text` is what Slack and Teams incoming webhooks show; the rest is for any other receiver.
    body = json.dumps({"text": f"{alert.subject}\n{alert.text}\n{alert.url}", **asdict(alert)})
    request = urllib.request.Request(
        settings.webhook_url,
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:
        response.read()


def send(alert: Alert, settings: AlertSettings, log: logging.Logger | None = None) -> list[str]:
    """Send `alert` to every configured channel; the channels that took it."""
    sent, failed = [], []
    channels = [
        ("email", settings.email_on, _send_email),
        ("webhook", settings.webhook_on, _post_webhook),
    ]
    for name, on, deliver in channels:
        if not on:
            continue
        try:
            deliver(alert, settings)
            sent.append(name)
        except (OSError, smtplib.SMTPException) as error:
            failed.append(f"{name}: {error}")
            if log:
                log.error(f"alert {alert.subject!r} not sent by {name}: {error}")
    if failed and not sent:
        raise AlertNotSent("; ".join(failed))
    return sent


def _run_url(settings: AlertSettings, run_id: str) -> str:
    return f"{settings.ui_url}/runs/{run_id}"


def innermost_line(error: SerializableErrorInfo | None, default: str = "", limit: int = 160) -> str:
    """The first line of the innermost error (the op's own exception, not Dagster's wrapper)."""
    while error is not None and error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines() if error else []
    return (lines[0] if lines else default)[:limit]


def run_failure_alert(context: dg.RunFailureSensorContext, settings: AlertSettings) -> Alert:
    run = context.dagster_run
    steps = [
        "- step {}: {}".format(
            event.step_key,
            innermost_line(event.step_failure_data.error, "failed", _MAX_DETAIL_CHARS),
        )
        for event in context.get_step_failure_events()
    ]
    reason = (context.failure_event.message or "the run failed").strip()[:_MAX_DETAIL_CHARS]
    text = f"Run {run.run_id} of job {run.job_name} failed: {reason}" + (
        "\n" + "\n".join(steps) if steps else ""
    )
    return Alert(
        kind="run_failure",
        subject=f"[gogaek] run of {run.job_name} failed",
        text=_gated(text),
        run_id=run.run_id,
        job_name=run.job_name,
        url=_run_url(settings, run.run_id),
    )


_SETTINGS_AT_LOAD = Settings.from_env().alerts
_DEFAULT_STATUS = (
    dg.DefaultSensorStatus.RUNNING if _SETTINGS_AT_LOAD.any_on else dg.DefaultSensorStatus.STOPPED
)


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    monitor_all_code_locations=True,  # in-process runs (`make demo`) have no code location
    minimum_interval_seconds=30,
    default_status=_DEFAULT_STATUS,
    description="Sends an alert (e-mail, webhook: GOGAEK_ALERT_*) for every run that fails. "
    "On by default when a channel is set.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
    settings = Settings.from_env().alerts
    if not settings.any_on:
        context.log.info("no alert channel set (GOGAEK_ALERT_*): nothing sent")
        return
    alert = run_failure_alert(context, settings)
    sent = send(alert, settings, context.log)
    context.log.info(f"alert sent by {', '.join(sent)}: {alert.subject}")


_FAILING = {
    "error": {dg.AssetCheckSeverity.ERROR},
    "warn": {dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN},
}


_RUN_ENDS: tuple[RunStatusChangeEventType, ...] = (
    DagsterEventType.RUN_SUCCESS,
    DagsterEventType.RUN_FAILURE,
)
_PAGE = 200


def _run_ends_after(instance: dg.DagsterInstance, after: int | None) -> list[tuple[int, str]]:
    """(storage id, run id) of runs that ended after a storage id of the run-status index —
    asset-check events of different runs are not comparable by id on SQLite, run ends are."""
    pages = [
        instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type=event_type, after_storage_id=after),
            limit=_PAGE,
            ascending=True,
        ).records
        for event_type in _RUN_ENDS
    ]
    ends = sorted((r.storage_id, r.run_id) for page in pages for r in page)
    full = [page[-1].storage_id for page in pages if len(page) == _PAGE]
    return [end for end in ends if end[0] <= min(full)] if full else ends


def _latest_run_end(instance: dg.DagsterInstance) -> int:
    latest = [
        instance.fetch_run_status_changes(event_type, limit=1).records for event_type in _RUN_ENDS
    ]
    return max((records[0].storage_id for records in latest if records), default=0)


def failed_checks(instance: dg.DagsterInstance, run_id: str, severity: str) -> list[str]:
    """The checks that failed in a run, as 'asset check (SEVERITY)', at `severity` and above."""
    failed = []
    for record in instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    ).records:
        evaluation = record.event_log_entry.get_dagster_event().asset_check_evaluation_data
        if not evaluation.passed and evaluation.severity in _FAILING[severity]:
            failed.append(
                f"{evaluation.asset_key.to_user_string()} {evaluation.check_name} "
                f"({evaluation.severity.value})"
            )
    return failed


@dg.sensor(
    name="alert_on_check_failure",
    minimum_interval_seconds=30,
    default_status=_DEFAULT_STATUS,
    description="Sends an alert (e-mail, webhook: GOGAEK_ALERT_*) for the asset checks that "
    "failed in a run: blocking (ERROR) ones, or every one with GOGAEK_ALERT_CHECK_SEVERITY=warn. "
    "On by default when a channel is set.",
)
def alert_on_check_failure(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    if context.cursor is None:  # first tick: from now on, nothing about the past
        latest = _latest_run_end(context.instance)
        return dg.SensorResult(skip_reason=f"starting after run event {latest}", cursor=str(latest))
    settings = Settings.from_env().alerts
    ends = _run_ends_after(context.instance, int(context.cursor))
    cursor = str(ends[-1][0]) if ends else context.cursor
    if not settings.any_on:
        return dg.SensorResult(skip_reason="no alert channel set (GOGAEK_ALERT_*)", cursor=cursor)
    alerted = 0
    for _, run_id in ends:
        checks = failed_checks(context.instance, run_id, settings.check_severity)
        if not checks:
            continue
        run = context.instance.get_run_by_id(run_id)
        job = run.job_name if run else "?"
        alert = Alert(
            kind="check_failure",
            subject=f"[gogaek] {len(checks)} check(s) failed in a run of {job}",
            text=_gated(f"Run {run_id} of job {job}: failed checks\n- " + "\n- ".join(checks)),
            run_id=run_id,
            job_name=job,
            url=_run_url(settings, run_id),
        )
        sent = send(alert, settings, context.log)
        context.log.info(f"alert sent by {', '.join(sent)}: {alert.subject}")
        alerted += 1
    return dg.SensorResult(
        skip_reason=None if alerted else "no failed check in the runs that ended", cursor=cursor
    )


alert_sensors = [alert_on_run_failure, alert_on_check_failure]
