"""Celery task of the call details: build an ordered file and e-mail it (portal.jobs style, own module)."""
import logging
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import celery, db
from portal.jobs import FlaskTask
from portal.models import utcnow

log = logging.getLogger(__name__)


@event.listens_for(Session, "after_commit")
def _dispatch_detail_orders(session: Session) -> None:
    from portal.domain.details import PENDING_KEY

    for order_id in session.info.pop(PENDING_KEY, None) or ():
        try:
            send_detail_order.delay(order_id)
        except Exception:  # the broker is down: the order stays pending; ordering again makes a new one
            log.exception("could not hand detail order %s to delivery", order_id)


@event.listens_for(Session, "after_rollback")
def _forget_detail_orders(session: Session) -> None:
    from portal.domain.details import PENDING_KEY

    session.info.pop(PENDING_KEY, None)


@celery.task(base=FlaskTask, name="portal.send_detail_order")
def send_detail_order(order_id: int) -> str:
    from portal.domain import details
    from portal.mail import mailer_from_config
    from portal.models import DetailOrder

    cfg = current_app.config
    # Its own session: in eager mode this runs inside the caller's after_commit hook.
    with Session(db.engine) as session:
        order = session.get(DetailOrder, order_id)
        locale = order.locale if order else cfg["BABEL_DEFAULT_LOCALE"]
        session.rollback()
        with force_locale(locale):
            return details.deliver_order(session, order_id, send=mailer_from_config(cfg).send,
                                         tz=cfg["BABEL_DEFAULT_TIMEZONE"], brand=cfg["BRAND"],
                                         sender=cfg["MAIL_FROM"], now=utcnow(),
                                         lease=timedelta(seconds=cfg["DETAILS_MAIL_LEASE"]))
