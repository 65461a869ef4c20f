"""Who may use the dashboard: no default account, login and logout, the login rate limit, CSRF on forms."""

from sqlalchemy import select

from bot.storage.models import Ticket


def test_no_default_account_and_anonymous_redirected(auth):
    response = auth.client.get("/dashboard/")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
    assert auth.login("admin@localhost", "admin").status_code == 200  # shown again with an error
    assert auth.client.get("/dashboard/").status_code == 302


def test_login_then_logout(auth, officer):
    response = auth.login(officer)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"
    assert auth.client.get("/dashboard/").status_code == 200
    assert auth.logout().headers["Location"] == "/dashboard/login"
    assert auth.client.get("/dashboard/").status_code == 302


def test_login_rate_limited(auth, officer):
    for _ in range(5):
        assert auth.login(officer, "sai-mat-khau").status_code == 200
    response = auth.login(officer)  # even the right password is refused while locked
    assert response.status_code == 429 and "15 phút" in response.get_data(as_text=True)


def test_csrf_required_on_forms(channel_app, auth, officer, ticket):
    auth.login(officer)
    response = auth.client.post(f"/dashboard/tickets/{ticket}/claim", data={})
    assert response.status_code == 400
    with channel_app.extensions["bot"].db.read() as s:
        assert s.scalars(select(Ticket)).one().assignee_id is None
