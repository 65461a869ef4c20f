"""FAQ suggestions: officers write them from a ticket, admins review them, the CLI exports the approved ones."""

import re
import shutil

from bot.cli import main

from .conftest import ROOT, AuthActions, open_ticket


def suggest(auth, code, question, answer):
    return auth.post(f"/dashboard/tickets/{code}/suggest", {"question": question, "answer": answer})


def approve_first(admin_auth):
    html = admin_auth.client.get("/dashboard/suggestions").get_data(as_text=True)
    sid = re.search(r"/dashboard/suggestions/(\d+)", html).group(1)
    return admin_auth.post(f"/dashboard/suggestions/{sid}", {"decision": "approved"}, follow_redirects=True)


def test_only_admins_review_suggestions(channel_app, auth, officer, admin, ticket):
    auth.login(officer)
    assert auth.client.get("/dashboard/suggestions").status_code == 403
    suggest(auth, ticket, "Công đoàn có hỗ trợ luật sư miễn phí không?",
            "Có, công đoàn tư vấn pháp luật miễn phí cho đoàn viên.")
    admin_auth = AuthActions(channel_app.test_client())
    admin_auth.login(admin)
    assert "luật sư miễn phí" in admin_auth.client.get("/dashboard/suggestions").get_data(as_text=True)
    reviewed = approve_first(admin_auth).get_data(as_text=True)
    assert "Đã duyệt đề xuất." in reviewed and "Chờ duyệt" not in reviewed


def test_export_suggestions(runner, channel_app, auth, officer, admin, tmp_path):
    faq_dir = shutil.copytree(ROOT / "faq", tmp_path / "faq")
    nlu_dir = shutil.copytree(ROOT / "nlu_data", tmp_path / "nlu_data")
    code = open_ticket(channel_app, "w-s")
    auth.login(officer)
    suggest(auth, code, "Đoàn viên được khám sức khỏe miễn phí không?", "Tùy chương trình từng năm.")
    admin_auth = AuthActions(channel_app.test_client())
    admin_auth.login(admin)
    approve_first(admin_auth)
    env = {"DATABASE_URL": channel_app.extensions["bot"].settings["DATABASE_URL"], "FAQ_DIR": str(faq_dir), "NLU_DATA_DIR": str(nlu_dir),
           "CALIBRATION_FILE": str(nlu_dir / "calibration.yml")}
    result = runner.invoke(main, ["faq", "export-suggestions"], env=env)
    assert result.exit_code == 0, result.output
    exported = (faq_dir / "de_xuat.yml").read_text(encoding="utf-8")
    assert "khám sức khỏe" in exported and "legal_basis: []" in exported
    validate = runner.invoke(main, ["validate"], env=env)
    assert validate.exit_code == 1 and "thiếu legal_basis" in validate.output
