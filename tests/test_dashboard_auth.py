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


def test_failed_logins_are_shared_by_processes_and_lock_the_account(channel_app, make_app, channel_config, runner, officer):
    """Counts live in the database: a second app (another server process) sees them, and an
    account guessed from many addresses is locked as a whole; an admin can unlock it."""
    from bot.cli import main

    from .conftest import PASSWORD, AuthActions

    other = make_app(channel_config)  # another process on the same database
    first, second = AuthActions(channel_app.test_client()), AuthActions(other.test_client())

    def attempt(client, address, password="sai-mat-khau"):
        return client.post("/dashboard/login", {"email": officer, "password": password}, environ_base={"REMOTE_ADDR": address})

    for i in range(20):
        assert attempt(first if i % 2 else second, f"10.0.0.{i}").status_code == 200  # 20 addresses, 1 failure each
    assert attempt(first, "10.9.9.9", PASSWORD).status_code == 429  # the account is locked, from any address
    assert attempt(second, "10.9.9.8", PASSWORD).status_code == 429
    env = {"DATABASE_URL": channel_config["DATABASE_URL"]}
    result = runner.invoke(main, ["officers", "unlock", officer], env=env)
    assert result.exit_code == 0 and "mở khóa" in result.output
    assert attempt(first, "10.9.9.9", PASSWORD).status_code == 302


def test_lock_ends_after_fifteen_minutes(db):
    import datetime as dt

    from bot.handoff.officers import LoginThrottle

    now = [dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.timezone.utc)]
    limiter = LoginThrottle(db, 5, 20, clock=lambda: now[0])
    for _ in range(5):
        limiter.fail("a@cd.vn", "1.2.3.4")
    assert limiter.locked("a@cd.vn", "1.2.3.4") and not limiter.locked("a@cd.vn", "5.6.7.8")
    now[0] += dt.timedelta(minutes=15, seconds=1)
    assert not limiter.locked("a@cd.vn", "1.2.3.4")
