"""Officer accounts from the command line: add (strong passwords, no duplicates), list, API token, disable."""

from bot.cli import main

from .conftest import PASSWORD, add_officer


def test_officers_cli_add_list_disable_token(runner, channel_app, auth):
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"]}
    weak = runner.invoke(main, ["officers", "add", "x@y.vn", "--name", "X", "--password-stdin"], input="ngan\n", env=env)
    assert weak.exit_code == 1 and "ít nhất 10" in weak.output
    add_officer(runner, channel_app, "x@y.vn")
    dup = runner.invoke(main, ["officers", "add", "x@y.vn", "--name", "X", "--password-stdin"], input=PASSWORD + "\n", env=env)
    assert dup.exit_code == 1 and "Đã có" in dup.output
    assert "x@y.vn" in runner.invoke(main, ["officers", "list"], env=env).output
    token = runner.invoke(main, ["officers", "token", "x@y.vn"], env=env).output.strip()
    assert token.startswith("cdt_")
    client = auth.client
    assert client.get("/api/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(main, ["officers", "disable", "x@y.vn"], env=env).exit_code == 0
    assert client.get("/api/tickets", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert auth.login("x@y.vn").status_code == 200 and client.get("/dashboard/").status_code == 302
