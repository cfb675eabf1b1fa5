"""/payments/: every way to pay and the history, one list."""
from tests import factories
from tests.home_fixtures import make_home


def test_the_payments_index_links_every_payment_page(client, login_as):
    login_as("+79161234567")
    page = client.get("/payments/")
    assert page.status_code == 200
    for url in ("/payments/topup", "/payments/transfer", "/payments/voucher", "/payments/promised",
                "/payments/auto", "/payments/bonus", "/payments/history"):
        assert f'href="{url}"' in page.text, url


def test_a_home_contract_sees_no_transfer_between_numbers(client, db_session):
    account = make_home(db_session)
    factories.make_login(db_session, account)
    db_session.commit()
    client.post_form("/auth/login", {"phone": account.home_contract.contract_no, "password": factories.PASSWORD})
    page = client.get("/payments/")
    assert page.status_code == 200 and 'href="/payments/topup"' in page.text
    assert 'href="/payments/transfer"' not in page.text


def test_the_payments_index_needs_a_sign_in(client):
    assert client.get("/payments/").status_code == 302
