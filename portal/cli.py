"""``flask`` commands: parse arguments, call one domain function, print one line."""
from datetime import timedelta

import click
from flask import Flask, current_app
from sqlalchemy import select

from portal.domain import demo, staff
from portal.domain.audit import SYSTEM
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import SmsMessage, utcnow


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_staff)
    app.cli.add_command(sms_group)
    app.cli.add_command(provisioning_group)
    app.cli.add_command(billing_group)
    app.cli.add_command(usage_group)
    app.cli.add_command(vouchers_group)
    app.cli.add_command(payments_group)


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


@click.group("sms")
def sms_group():
    """The SMS outbox."""


@sms_group.command("deliver")
def sms_deliver():
    """Hand every queued message to the delivery task again (after an outage)."""
    from portal.jobs import deliver_sms

    ids = db.session.scalars(select(SmsMessage.id).where(SmsMessage.status == "queued")).all()
    for message_id in ids:
        deliver_sms.delay(message_id)
    click.echo(f"{len(ids)} queued message(s) handed to delivery.")


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
                           kopecks_per_point=current_app.config["BONUS_KOPECKS_PER_POINT"]))


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


@click.group("payments")
def payments_group():
    """Card payments."""


@payments_group.command("reconcile")
def payments_reconcile():
    """Ask the gateway about payments still undecided after PAYMENT_RECONCILE_AFTER seconds (beat: every 5 min)."""
    from portal.jobs import reconcile_unsettled_payments

    click.echo(reconcile_unsettled_payments(now=utcnow()))
