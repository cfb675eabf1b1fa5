"""The operator's own systems calling the portal's rules over HTTP: the content gateway subscribing a line to a
provider's paid service (a shared key, ``Authorization: Bearer``, and where set the sender's networks), and the
USSD centre asking on a subscriber's behalf (only from the trusted gateways, whose word on a number the portal
takes, as for header enrichment at sign-in). Not for browsers: no session, no CSRF. JSON in, JSON out."""
import hmac

from flask import abort, current_app, request

from portal.domain import content, promised, ussd
from portal.domain.errors import DomainError, NotFound
from portal.domain.phones import parse_msisdn
from portal.extensions import csrf, db, limiter
from portal.gateway import bp
from portal.models import utcnow
from portal.payment_gateway import sender_allowed
from portal.web import bearer_token, body_limit, client_ip


def _gateway_only() -> None:
    """404 while no key is configured (the route does not exist for anyone), 403 for a wrong key or network."""
    expected = current_app.config["CONTENT_GATEWAY_TOKEN"]
    if not expected:
        abort(404)
    given = bearer_token()
    if given is None or not hmac.compare_digest(given.encode(), expected.encode()) \
            or not sender_allowed(client_ip(), current_app.config["CONTENT_GATEWAY_NETS"]):
        current_app.logger.warning("Content gateway call refused from %s", client_ip())
        abort(403)


@bp.post("/content/subscriptions")
@csrf.exempt  # a system with a key, not a browser with a cookie
@body_limit("CONTENT_GATEWAY_MAX_BYTES")
@limiter.limit(lambda: current_app.config["RATELIMIT_CONTENT_GATEWAY"])
def content_subscription():
    """{"msisdn", "service" (its code), "provider", "request_id"} → 201 connected, 200 already (the same request
    again), 403 refused (the line's content ban; kept on the customer's list), 404 unknown number or not a paid
    subscription, 409 the service's own rules refused (the reason in words), 400 a malformed request."""
    _gateway_only()
    body = request.get_json(silent=True)
    fields = ("msisdn", "service", "provider", "request_id")
    if not isinstance(body, dict) or not all(isinstance(body.get(f), str) and body[f].strip() for f in fields) \
            or len(body["provider"]) > 60 or len(body["request_id"]) > 100 or len(body["service"]) > 40:
        return {"status": "bad_request", "needs": list(fields)}, 400
    try:
        msisdn = parse_msisdn(body["msisdn"])
    except DomainError:
        return {"status": "bad_request", "field": "msisdn"}, 400
    try:
        done = content.provider_subscribe(db.session, msisdn=msisdn, service_code=body["service"].strip(),
                                          provider=body["provider"].strip(), request_id=body["request_id"].strip(),
                                          now=utcnow())
    except content.ContentRefused:
        return {"status": "refused", "reason": "content_ban"}, 403
    except NotFound:
        return {"status": "not_found"}, 404
    except DomainError as refused:
        return {"status": "refused", "reason": str(refused)}, 409
    return ({"status": "connected"}, 201) if done else ({"status": "already"}, 200)


def ussd_answer(*, msisdn: str, code: str, session_id: str) -> ussd.Answer | None:
    """The USSD answer, for the gateway and the development simulator alike."""
    cfg = current_app.config
    return ussd.answer(db.session, msisdn=msisdn, code=code, session_id=session_id,
                       rules=promised.PromisedRules.from_config(cfg), now=utcnow(),
                       default_locale=cfg["BABEL_DEFAULT_LOCALE"])


@bp.post("/ussd")
@csrf.exempt  # the USSD centre, not a browser
@body_limit("CONTENT_GATEWAY_MAX_BYTES")
@limiter.limit(lambda: current_app.config["RATELIMIT_USSD"])
def ussd_request():
    """{"msisdn", "code" (e.g. "*100#"), "session" (the centre's id: a retry changes nothing twice)} →
    {"text", "end"}; 403 unless from TRUSTED_GATEWAYS, 404 for a number that is not ours, 400 malformed."""
    if not trusted_gateway(client_ip()):
        abort(403)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(isinstance(body.get(f), str) and 0 < len(body[f]) <= 64
                                             for f in ("msisdn", "code", "session")):
        return {"error": "needs msisdn, code and session"}, 400
    try:
        msisdn = parse_msisdn(body["msisdn"])
    except DomainError:
        return {"error": "msisdn"}, 400
    found = ussd_answer(msisdn=msisdn, code=body["code"], session_id=body["session"])
    if found is None:
        return {"error": "not a subscriber"}, 404
    return {"text": found.text, "end": found.end}


def trusted_gateway(address: str | None) -> bool:
    """The trusted gateways (TRUSTED_GATEWAYS): none configured, nobody."""
    nets = current_app.config["TRUSTED_GATEWAYS"]
    return bool(nets) and sender_allowed(address, nets)
