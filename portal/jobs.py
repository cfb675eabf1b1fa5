"""Celery tasks. Eager (inline) in the embedded default; through Redis when REDIS_URL is set."""
import logging
from datetime import timedelta

from celery import Task
from celery.schedules import crontab
from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import celery, db
from portal.models import utcnow

log = logging.getLogger(__name__)


class FlaskTask(Task):
    """Runs in the caller's app context (eager), else in the app that configured Celery last (a worker)."""

    def __call__(self, *args, **kwargs):
        if has_app_context():
            return self.run(*args, **kwargs)
        with self.app.flask_app.app_context():
            return self.run(*args, **kwargs)


celery.Task = FlaskTask  # before the tasks below are defined


# Queues besides the default one ("celery": SMS, alerts, the sweep).
SWITCH_QUEUE = "switch"
REPORTS_QUEUE = "reports"
BILLING_QUEUE = "billing"  # the billing run's batches and the auto-payments they find due, in parallel
TASK_ROUTES = {
    "portal.apply_switch_command": {"queue": SWITCH_QUEUE},
    "portal.send_detail_order": {"queue": REPORTS_QUEUE},
    "portal.billing_run": {"queue": BILLING_QUEUE},
    "portal.billing_batch": {"queue": BILLING_QUEUE},
    "portal.autopay_charge": {"queue": BILLING_QUEUE},
    "portal.usage_rollup": {"queue": REPORTS_QUEUE},
    "portal.usage_prune": {"queue": REPORTS_QUEUE},
    "portal.reconcile_payments": {"queue": REPORTS_QUEUE},
    "portal.clean_sessions": {"queue": REPORTS_QUEUE},
}
RELIABILITY_SCHEDULE = {
    # Jobs lost with a killed worker or a broker outage are found in the database and handed out again.
    "sweep-jobs": {"task": "portal.sweep_jobs", "schedule": crontab(minute="*/2")},
    # Card payments left undecided (a lost answer, an abandoned payment page) are asked of the provider.
    "reconcile-payments": {"task": "portal.reconcile_payments", "schedule": crontab(minute="*/5")},
}


def init_celery(app: Flask) -> None:
    redis_url = app.config["REDIS_URL"]
    celery.conf.update(
        broker_url=redis_url or "memory://",
        result_backend=None,
        task_ignore_result=True,
        task_always_eager=not redis_url,
        task_eager_propagates=False,
        broker_connection_retry_on_startup=True,
        # A worker killed mid-task (kill -9, OOM) must not lose what it had taken: acknowledge a task only
        # when it has finished, and give it back when the worker dies. Every task is idempotent, so one
        # delivered twice does its work once; the sweep below re-sends sooner than Redis's visibility timeout.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Switch commands and report e-mails wait on slow systems: their own queues, so SMS passwords (the
        # default queue) never wait behind them. README "Production" has a worker per queue.
        task_routes=TASK_ROUTES,
    )
    celery.conf.beat_schedule = {
        # Every night after midnight Moscow time (21:05 UTC): the day's fees, packages and overdue promises.
        "billing-run": {"task": "portal.billing_run", "schedule": crontab(hour=21, minute=5)},
        # Alerts held for quiet hours go out when the hours end.
        "release-alerts": {"task": "portal.release_alerts", "schedule": crontab(minute="*/5")},
        # Daily usage totals for call details, after midnight UTC (late records: the last 3 days are redone).
        "usage-rollup": {"task": "portal.usage_rollup", "schedule": crontab(hour=0, minute=20)},
        # Records past the retention (USAGE_RETENTION_MONTHS) go, a batch per transaction.
        "usage-prune": {"task": "portal.usage_prune", "schedule": crontab(hour=1, minute=10)},
        # Sessions past their idle or absolute lifetime end; long-ended rows go.
        "clean-sessions": {"task": "portal.clean_sessions", "schedule": crontab(minute=35)},
    }
    celery.conf.update(app.config.get("CELERY", {}))
    celery.conf.beat_schedule.update(RELIABILITY_SCHEDULE)
    celery.flask_app = app
    celery.set_default()
    app.extensions["celery"] = celery


def _after_commit_jobs():
    """What a committed transaction hands on: (session.info key, task) pairs."""
    from portal.domain.auth import PASSWORD_PENDING_KEY
    from portal.domain.notices import PENDING_KEY as NOTICE_PENDING
    from portal.domain.provisioning import PENDING_KEY as SWITCH_PENDING
    from portal.domain.sms import PENDING_KEY as SMS_PENDING

    return ((SMS_PENDING, deliver_sms), (SWITCH_PENDING, apply_switch_command),
            (PASSWORD_PENDING_KEY, send_sms_password), (NOTICE_PENDING, notice_sms))


@event.listens_for(Session, "after_commit")
def _dispatch_queued(session: Session) -> None:
    for key, task in _after_commit_jobs():
        for object_id in session.info.pop(key, None) or ():
            try:
                task.delay(object_id)
            except Exception:  # the broker is down: the row stays queued for the CLI's catch-up command
                log.exception("could not hand %s %s to its job", key, object_id)


@event.listens_for(Session, "after_rollback")
def _forget_queued(session: Session) -> None:
    for key, _task in _after_commit_jobs():
        session.info.pop(key, None)


@celery.task(bind=True, name="portal.deliver_sms", max_retries=None)
def deliver_sms(self, message_id: int) -> str:
    from portal.domain import sms
    from portal.sms import SmsSendError, gateway_from_config

    cfg = current_app.config
    if cfg["SMS_BACKEND"] == "smpp":
        return "queued"  # the `flask sms smpp` process holds the bind to the SMSC and takes it from the outbox
    try:
        # Its own session: in eager mode this runs inside the caller's after_commit hook.
        with Session(db.engine) as session:
            return sms.deliver_sms(session, message_id, gateway=gateway_from_config(cfg),
                                   sender=cfg["SMS_SENDER"] or cfg["BRAND"], now=utcnow(),
                                   max_attempts=cfg["SMS_MAX_ATTEMPTS"], lease=timedelta(seconds=cfg["SMS_LEASE"]))
    except SmsSendError as err:
        if self.request.is_eager:
            return "queued"  # the inline backend does not retry; `flask sms deliver` picks it up
        raise self.retry(exc=err, countdown=min(300, 10 * 2 ** self.request.retries))


@celery.task(name="portal.send_sms_password")
def send_sms_password(request_id: int) -> str:
    """Look the number of an SMS-password request up and send the password if it is ours (issue 14.11:
    the request itself does the same work for every number, so its time tells nothing)."""
    from portal.domain.auth import AuthPolicy, fulfil_password_request

    # Its own session: in eager mode this runs inside the caller's after_commit hook.
    with Session(db.engine) as session:
        return fulfil_password_request(session, request_id, now=utcnow(),
                                       policy=AuthPolicy.from_config(current_app.config))


@celery.task(bind=True, name="portal.apply_switch_command", max_retries=None)
def apply_switch_command(self, command_id: int) -> str:
    from portal.domain import provisioning
    from portal.provisioning import SwitchUnavailable, backend_from_config

    cfg = current_app.config
    try:
        # Its own session: in eager mode this runs inside the caller's after_commit hook.
        with Session(db.engine) as session:
            return provisioning.apply_command(session, command_id, backend=backend_from_config(cfg), now=utcnow(),
                                              max_attempts=cfg["PROVISIONING_MAX_ATTEMPTS"],
                                              lease=timedelta(seconds=cfg["PROVISIONING_LEASE"]),
                                              final=bool(self.request.is_eager))
    except SwitchUnavailable as err:
        raise self.retry(exc=err, countdown=min(300, 10 * 2 ** self.request.retries)) from None


@celery.task(name="portal.billing_run")
def billing_run(day: str | None = None) -> str:
    """The day's billing run: one job per batch of accounts (an id range) on the billing queue, run in parallel by
    as many workers as it has; each batch then hands its due auto-payments to jobs of their own."""
    from flask_babel import to_user_timezone

    from portal.domain.billing import batches

    now = utcnow()
    day = day or to_user_timezone(now).date().isoformat()
    with Session(db.engine) as session:
        ranges = batches(session, current_app.config["BILLING_BATCH_SIZE"])
    for first_id, last_id in ranges:
        billing_batch.delay(first_id, last_id, day, now.isoformat())
    return f"Billing run for {day}: {len(ranges)} batches"


@celery.task(bind=True, name="portal.billing_batch", max_retries=10)
def billing_batch(self, first_id: int, last_id: int, day: str, now: str) -> str:
    """Bill the accounts in [first_id, last_id] for ``day`` (idempotent: a repeat inserts and moves nothing),
    then queue the auto-payments due among them, after their fees. A database that is down or busy (a lost
    connection, a lock timeout) has the batch tried again later: it rolled back whole."""
    from datetime import date, datetime

    from sqlalchemy.exc import OperationalError

    from portal.domain.autopay import due_rule_ids
    from portal.domain.billing import bill_range

    cfg = current_app.config
    billed_day = date.fromisoformat(day)
    with Session(db.engine) as session:
        try:
            report = bill_range(session, first_id=first_id, last_id=last_id, day=billed_day,
                                now=datetime.fromisoformat(now), kopecks_per_point=cfg["BONUS_KOPECKS_PER_POINT"])
        except OperationalError as err:
            session.rollback()
            raise self.retry(exc=err, countdown=min(600, 30 * 2 ** self.request.retries)) from None
        due = due_rule_ids(session, day=billed_day, first_id=first_id, last_id=last_id)
    for rule_id in due:
        autopay_charge.delay(rule_id, day, now)
    return f"{report}; {len(due)} auto-payments queued"


@celery.task(name="portal.autopay_charge")
def autopay_charge(rule_id: int, day: str, now: str) -> str:
    """One auto-payment (idempotent: the payment's key is the rule's and the day's)."""
    from datetime import date, datetime

    from portal.domain.autopay import charge_rule
    from portal.domain.billing import AutopaySettings

    settings = AutopaySettings.from_config(current_app.config)
    with Session(db.engine) as session:
        outcome = charge_rule(session, settings.provider_for(session), rule_id=rule_id, day=date.fromisoformat(day),
                              now=datetime.fromisoformat(now), max_failures=settings.max_failures,
                              brand=settings.brand, sms_locale=settings.sms_locale)
    return {True: "paid", False: "declined", None: "nothing to do"}[outcome]


@celery.task(name="portal.release_alerts")
def release_alerts() -> int:
    from portal.domain.alerts import release_due

    with Session(db.engine) as session:
        return release_due(session, now=utcnow())


@celery.task(name="portal.notice_sms")
def notice_sms(notice_id: int) -> int:
    """The SMS of a notice's current phase to the affected customers who asked (batches; idempotent)."""
    from portal.domain.notices.sms import send_phase

    # Its own session: in eager mode this runs inside the caller's after_commit hook.
    with Session(db.engine) as session:
        return send_phase(session, notice_id, now=utcnow(), batch=current_app.config["NOTICE_SMS_BATCH"])


@celery.task(name="portal.usage_rollup")
def usage_rollup() -> int:
    from datetime import timedelta

    from portal.domain.details import roll_up

    with Session(db.engine) as session:
        return roll_up(session, through=utcnow().date() - timedelta(days=1))


@celery.task(name="portal.usage_prune")
def usage_prune() -> int:
    from portal.domain.details import prune

    with Session(db.engine) as session:
        return prune(session, today=utcnow().date(), months=current_app.config["USAGE_RETENTION_MONTHS"])


@celery.task(name="portal.clean_sessions")
def clean_sessions() -> str:
    from portal.domain.auth import end_expired_sessions, lifetimes_from_config

    with Session(db.engine) as session:
        return "%d ended, %d deleted" % end_expired_sessions(session, now=utcnow(),
                                                             **lifetimes_from_config(current_app.config))


@celery.task(name="portal.reconcile_payments")
def reconcile_payments() -> str:
    return str(reconcile_unsettled_payments(now=utcnow()))


def reconcile_unsettled_payments(*, now):
    """Payments still undecided PAYMENT_RECONCILE_AFTER seconds after they started, asked of the provider."""
    from portal.domain.payments import ReconcileReport, reconcile
    from portal.payment_gateway import ProviderNotConfigured, provider_from_config

    cfg = current_app.config
    with Session(db.engine) as session:
        try:
            provider = provider_from_config(cfg, session)
        except ProviderNotConfigured:
            return ReconcileReport()
        return reconcile(session, provider, now=now,
                         older_than=now - timedelta(seconds=cfg["PAYMENT_RECONCILE_AFTER"]))


@celery.task(name="portal.sweep_jobs")
def sweep_jobs() -> str:
    """Hand out again what a lost job left behind (every few minutes from beat)."""
    return str(sweep(now=utcnow()))


# A password job normally runs within a second; a request still unhandled after this was lost.
PASSWORD_REQUEST_SWEEP_AFTER = timedelta(minutes=1)


def sweep(*, now) -> dict[str, int]:
    """Queued SMS, pending switch commands and detail orders older than JOBS_SWEEP_AFTER go to their jobs
    again; a job still running elsewhere is not disturbed (claims and row locks make a repeat do nothing).
    SMS-password requests no job took go again after a minute, while their password would still be of use."""
    from portal.details_jobs import send_detail_order
    from portal.domain import auth, details, provisioning, sms
    from portal.domain.notices.sms import unsent_ids

    cfg = current_app.config
    older_than = now - timedelta(seconds=cfg["JOBS_SWEEP_AFTER"])
    with Session(db.engine) as session:
        # Through the SMSC the `flask sms smpp` process takes queued messages itself: nothing to hand out.
        stuck_sms = [] if cfg["SMS_BACKEND"] == "smpp" else sms.stuck_ids(session, older_than=older_than, now=now)
        found = ((deliver_sms, stuck_sms),
                 (apply_switch_command, provisioning.pending_ids(session, older_than=older_than, now=now)),
                 (send_detail_order, details.stuck_order_ids(session, older_than=older_than, now=now)),
                 (notice_sms, unsent_ids(session, older_than=older_than, now=now)),
                 (send_sms_password, auth.unhandled_password_requests(session, now=now,
                                                                      within=cfg["TEMP_PASSWORD_TTL"],
                                                                      waited=PASSWORD_REQUEST_SWEEP_AFTER)))
    for task, ids in found:
        for object_id in ids:
            task.delay(object_id)
    return {task.name: len(ids) for task, ids in found}
