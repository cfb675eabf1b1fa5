def test_login_page_renders(client):
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert b'name="phone"' in response.data


def test_dashboard_for_signed_in_customer(client, login_as):
    login_as("+79161234567")
    response = client.get("/")
    assert response.status_code == 200
    assert "+7 916 123-45-67" in response.text
