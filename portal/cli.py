"""``flask`` commands: parse arguments, call one domain function, print one line."""
import secrets
from datetime import timedelta
from pathlib import Path

import click
from flask import Config, Flask, current_app
from sqlalchemy import select

from portal.domain import demo, passkeys, staff
from portal.domain.audit import SYSTEM
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import SmsMessage, utcnow


def init_app(app: Flask) -> None:
    app.cli.add_command(init_secret_key)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_staff)
    app.cli.add_command(staff_passkey)
    app.cli.add_command(sms_group)
    app.cli.add_command(provisioning_group)
    app.cli.add_command(billing_group)
    app.cli.add_command(usage_group)
    app.cli.add_command(vouchers_group)
    app.cli.add_command(sessions_group)
    app.cli.add_command(payments_group)


@click.command("init-secret-key")
def init_secret_key():
    """Give this installation its own SECRET_KEY in instance/config.py, once (``make db`` runs it)."""
    config_file = Path(current_app.instance_path) / "config.py"
    if write_secret_key(config_file):
        click.echo(f"A random SECRET_KEY was written to {config_file}.")
    else:
        click.echo(f"{config_file} already sets SECRET_KEY; left as it is.")


def write_secret_key(config_file: Path) -> bool:
    """Append a random SECRET_KEY to the instance config unless it sets one; True when written.

    Without a key of its own a fresh clone's ``flask create-staff`` stops (outside debug
    the portal refuses to sign cookies with a known key); a key kept in the git-ignored
    instance folder also keeps sessions valid across restarts.
    """
    if config_file.exists():
        existing = Config(str(config_file.parent))
        existing.from_pyfile(config_file.name)
        if existing.get("SECRET_KEY"):
            return False
    config_file.parent.mkdir(parents=True, exist_ok=True)
    with config_file.open("a") as out:
        out.write(f"# Written once by `flask init-secret-key`: this installation's own key; never commit it.\n"
                  f"SECRET_KEY = {secrets.token_urlsafe(48)!r}\n")
    config_file.chmod(0o600)
    return True


@click.command("seed-demo")
def seed_demo():
    """Load the demo customers, lines, catalog and usage (safe to run twice)."""
    cfg = current_app.config
    summary = demo.seed_demo(db.session, voucher_key=cfg["VOUCHER_KEY"] or cfg["SECRET_KEY"])
    click.echo(summary)


@click.command("create-staff")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--role", type=click.Choice(staff.ROLES), prompt=True)
@click.password_option()
def create_staff(email, name, role, password):
    """Create a staff user for /admin."""
    try:
        member = staff.create_staff(db.session, email=email, name=name, role=role, password=password,
                                    actor=SYSTEM, min_length=current_app.config["PASSWORD_MIN_LENGTH"])
    except DomainError as err:
        raise click.ClickException(str(err.message)) from None
    click.echo(f"Staff user {member.email} ({member.role}) created.")


@click.command("staff-passkey")
@click.argument("email")
@click.option("--required/--optional", default=True, help="Whether signing in takes a passkey after the password.")
def staff_passkey(email, required):
    """Make a staff member sign in with password and passkey (--required), or with the password alone."""
    try:
        member = passkeys.require_for_staff(db.session, email=email, required=required, actor=SYSTEM)
    except DomainError:
        raise click.ClickException(f"No staff user {email}.") from None
    click.echo(f"{member.email}: a passkey is {'required' if required else 'optional'} at sign-in.")


@click.group("sms")
def sms_group():
    """The SMS outbox."""


@sms_group.command("deliver")
def sms_deliver():
    """Hand every queued message to the delivery task again (after an outage)."""
    from portal.jobs import deliver_sms

    ids = db.session.scalars(select(SmsMessage.id).where(SmsMessage.status == "queued")).all()
    if current_app.config["SMS_BACKEND"] == "smpp":
        click.echo(f"{len(ids)} queued message(s): the `flask sms smpp` process sends them.")
    else:
        for message_id in ids:
            deliver_sms.delay(message_id)
        click.echo(f"{len(ids)} queued message(s) handed to delivery.")
    _hand_over_password_requests()


@sms_group.command("smpp")
def sms_smpp():
    """Hold the bind to the SMSC (SMS_BACKEND=smpp): send the outbox, read delivery receipts. Runs until stopped
    (SIGTERM or Ctrl-C); run one per SMSC account, under a supervisor that restarts it."""
    import logging
    import signal
    import threading

    from sqlalchemy.orm import Session

    from portal.sms.smpp_process import process_from_config

    cfg = current_app.config
    if cfg["SMS_BACKEND"] != "smpp":
        raise click.ClickException("SMS_BACKEND is not smpp: nothing for this process to do.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    process = process_from_config(cfg, lambda: Session(db.engine))
    click.echo(f"SMPP: {cfg['SMPP_SYSTEM_ID']}@{cfg['SMPP_HOST']}:{cfg['SMPP_PORT']}; stop with Ctrl-C or SIGTERM.")
    process.run(stop)
    click.echo(f"SMPP stopped: {process.stats}")


def _hand_over_password_requests() -> None:
    from portal.domain.auth import unhandled_password_requests
    from portal.jobs import send_sms_password

    # Older than a password's life, a late SMS would be of no use: those are left.
    ids = unhandled_password_requests(db.session, now=utcnow(), within=current_app.config["TEMP_PASSWORD_TTL"])
    for request_id in ids:
        send_sms_password.delay(request_id)
    click.echo(f"{len(ids)} SMS-password request(s) handed to the password job.")


@sms_group.command("release-alerts")
def sms_release_alerts():
    """Send the alerts held for quiet hours that are over (the Celery beat does it every 5 minutes)."""
    from portal.domain.alerts import release_due

    click.echo(f"{release_due(db.session, now=utcnow())} held alert(s) sent.")


@click.group("provisioning")
def provisioning_group():
    """Commands for the network's switch."""


@provisioning_group.command("apply")
@click.option("--older-than", default=60, show_default=True, help="Seconds a command has been waiting.")
def provisioning_apply(older_than):
    """Hand the commands still pending to the provisioning job again (after a broker outage)."""
    from portal.domain.provisioning import pending_ids
    from portal.jobs import apply_switch_command

    ids = pending_ids(db.session, older_than=utcnow() - timedelta(seconds=older_than))
    db.session.rollback()
    for command_id in ids:
        apply_switch_command.delay(command_id)
    click.echo(f"{len(ids)} pending command(s) handed to the switch.")


@click.group("usage")
def usage_group():
    """Call-detail records."""


@usage_group.command("rollup")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="first UTC day to rebuild (default: 3 days back)")
@click.option("--through", type=click.DateTime(["%Y-%m-%d"]), help="last UTC day (default: yesterday)")
def usage_rollup(since, through):
    """Rebuild the daily usage totals that call-detail totals add up (Celery beat runs it nightly)."""
    from portal.domain.details import roll_up

    last = through.date() if through else utcnow().date() - timedelta(days=1)
    days = roll_up(db.session, through=last, since=since.date() if since else None)
    click.echo(f"Usage rolled up: {days} day(s) through {last}.")


@usage_group.command("prune")
@click.option("--months", type=int, default=None, help="calendar months to keep (default: USAGE_RETENTION_MONTHS)")
def usage_prune(months):
    """Delete call-detail records and daily totals older than the retention (Celery beat runs it nightly)."""
    from portal.domain.details import prune

    months = months or current_app.config["USAGE_RETENTION_MONTHS"]
    removed = prune(db.session, today=utcnow().date(), months=months)
    click.echo(f"Usage records older than {months} months deleted: {removed}.")


@click.group("billing")
def billing_group():
    """Money checks and runs."""


@billing_group.command("run")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="the day to bill (default: today in UTC)")
def billing_run(day):
    """Monthly fees and packages on period starts, overdue promised payments; safe to run twice."""
    from portal.domain.billing import AutopaySettings, run_billing

    now = utcnow()
    click.echo(run_billing(db.session, day=day.date() if day else now.date(), now=now,
                           autopay=AutopaySettings.from_config(current_app.config),
                           kopecks_per_point=current_app.config["BONUS_KOPECKS_PER_POINT"],
                           batch_size=current_app.config["BILLING_BATCH_SIZE"]))


@billing_group.command("verify")
def billing_verify():
    """Check that every balance equals the sum of its ledger entries; exit 1 if not."""
    from portal.domain import ledger

    mismatches = ledger.verify(db.session)
    for m in mismatches:
        click.echo(f"account {m.account_id}: balance {m.balance} != entries {m.entries_sum}", err=True)
    if mismatches:
        raise SystemExit(1)
    click.echo("Every balance equals the sum of its ledger entries.")


@click.group("vouchers")
def vouchers_group():
    """Prepaid cards."""


@vouchers_group.command("issue")
@click.option("--count", type=int, required=True)
@click.option("--amount", required=True, help="roubles per card, e.g. 500")
def vouchers_issue(count, amount):
    """Issue a batch; prints CODE;PIN;AMOUNT lines once (for the printer), never stored in clear."""
    from portal.domain import vouchers
    from portal.domain.money import parse_rubles
    from portal.models import utcnow

    cfg = current_app.config
    try:
        issued = vouchers.issue_vouchers(db.session, count=count, amount=parse_rubles(amount),
                                         key=cfg["VOUCHER_KEY"] or cfg["SECRET_KEY"], actor=SYSTEM, now=utcnow())
    except DomainError as err:
        raise click.ClickException(str(err.message)) from None
    for card in issued:
        click.echo(f"{card.code};{card.pin};{card.amount // 100}")


@click.group("sessions")
def sessions_group():
    """Signed-in devices of customers and staff."""


@sessions_group.command("clean")
def sessions_clean():
    """End sessions past their idle or absolute lifetime and delete long-ended rows (beat runs it hourly)."""
    from portal.domain.auth import end_expired_sessions, lifetimes_from_config

    ended, deleted = end_expired_sessions(db.session, now=utcnow(), **lifetimes_from_config(current_app.config))
    click.echo(f"{ended} session(s) ended, {deleted} old row(s) deleted.")


@click.group("payments")
def payments_group():
    """Card payments."""


@payments_group.command("reconcile")
def payments_reconcile():
    """Ask the provider about payments still undecided after PAYMENT_RECONCILE_AFTER seconds (beat: every 5 min)."""
    from portal.jobs import reconcile_unsettled_payments

    click.echo(reconcile_unsettled_payments(now=utcnow()))
