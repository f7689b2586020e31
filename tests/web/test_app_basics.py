"""The app's frame: sign-in, sessions, safe redirects, headers, languages, errors, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import SettingInvalid, Settings
from tests.web.conftest import csrf_token, login_client, web_settings
from web.app import create_app
from web.settings import WebSettings


def test_pages_need_a_sign_in_and_the_sign_in_leads_back(client) -> None:
    answer = client.get("/inbox")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    page = client.get("/login?next=/inbox")
    signed = client.post("/login", data={"login": "e0017", "password": "budgetflow-demo", "next": "/inbox",
                                         "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert signed.status_code == 302 and signed.headers["Location"] == "/inbox"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_the_sign_in_never_redirects_off_the_site(client, target: str) -> None:
    page = client.get("/login")
    signed = client.post("/login", data={"login": "E0017", "password": "budgetflow-demo", "next": target,
                                         "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert signed.status_code == 302 and signed.headers["Location"] == "/"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client) -> None:
    for login in ("E0017", "nobody"):
        answer = login_client(client, login, password="wrong-password-123")
        assert answer.status_code == 401
        assert b"Wrong employee code, email or password." in answer.data
    assert client.get("/inbox").status_code == 302


def test_a_sign_in_without_the_csrf_token_is_refused(client) -> None:
    answer = client.post("/login", data={"login": "E0017", "password": "budgetflow-demo"})
    assert answer.status_code == 400 and b"did not come from this site" in answer.data
    assert client.get("/inbox").status_code == 302


def test_sign_ins_are_throttled_per_account(demo) -> None:
    client = create_app(demo, web=web_settings(login_limit="3 per minute")).test_client()
    codes = [login_client(client, "E0017", password="wrong-password-123").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_signing_out_ends_the_session(client) -> None:
    login_client(client, "E0017")
    inbox = client.get("/inbox")
    assert inbox.status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(inbox.get_data(as_text=True))})
    assert client.get("/inbox").status_code == 302


def test_responses_carry_safe_headers_and_cookies(client) -> None:
    answer = login_client(client, "E0017")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/login")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"


def test_the_language_switch_changes_the_page(client) -> None:
    client.get("/lang/en")
    assert b"Sign in" in client.get("/login").data
    client.get("/lang/zh")
    assert "登录".encode() in client.get("/login").data


def test_unknown_pages_and_api_paths_answer_404_in_their_own_kind(client) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["code"] == "NOT_FOUND"


def test_secure_cookies_are_the_default_off_a_loopback_address(tmp_path: Path) -> None:
    settings = Settings.from_env({"BUDGETFLOW_INSTANCE_DIR": str(tmp_path)})
    assert WebSettings.from_env(settings, host="0.0.0.0", environ={}).secure_cookies is True  # noqa: S104
    assert WebSettings.from_env(settings, host="127.0.0.1", environ={}).secure_cookies is False
    forced = WebSettings.from_env(settings, host="127.0.0.1", environ={"BUDGETFLOW_WEB_SECURE_COOKIES": "yes"})
    assert forced.secure_cookies is True


def test_every_process_of_a_machine_signs_with_one_generated_key(tmp_path: Path) -> None:
    settings = Settings.from_env({"BUDGETFLOW_INSTANCE_DIR": str(tmp_path)})
    first = WebSettings.from_env(settings, environ={}).secret_key
    assert WebSettings.from_env(settings, environ={}).secret_key == first and len(first) >= 32
    assert oct((tmp_path / "web-secret-key").stat().st_mode & 0o777) == "0o600"
    assert WebSettings.from_env(settings, environ={"BUDGETFLOW_SECRET_KEY": "k" * 40}).secret_key == "k" * 40


def test_a_malformed_web_setting_is_named(tmp_path: Path) -> None:
    settings = Settings.from_env({"BUDGETFLOW_INSTANCE_DIR": str(tmp_path)})
    with pytest.raises(SettingInvalid, match="BUDGETFLOW_WEB_SECURE_COOKIES"):
        WebSettings.from_env(settings, environ={"BUDGETFLOW_WEB_SECURE_COOKIES": "maybe", "BUDGETFLOW_SECRET_KEY": "k"})


def test_a_disabled_employee_is_signed_out_at_once(client, demo) -> None:
    login_client(client, "E0018")
    assert client.get("/inbox").status_code == 200
    with demo.engine.begin() as conn:
        from sqlalchemy import text
        conn.execute(text("UPDATE employee SET active = false WHERE code = 'E0018'"))
    assert client.get("/inbox").status_code == 302


def test_the_app_factory_reads_the_environment_when_given_nothing(demo, monkeypatch) -> None:
    monkeypatch.setenv("BUDGETFLOW_DATABASE_URL", str(demo.engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("BUDGETFLOW_SECRET_KEY", "s" * 40)
    assert create_app().test_client().get("/login").status_code == 200


def test_a_locked_database_answers_503_and_saves_nothing(demo, db_url, tmp_path) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the SQLite write lock")
    import sqlite3

    from engine.bootstrap import build
    short = build(Settings.from_env({"BUDGETFLOW_DATABASE_URL": db_url, "BUDGETFLOW_INSTANCE_DIR": str(tmp_path),
                                     "BUDGETFLOW_SQLITE_BUSY_TIMEOUT_SECONDS": "0.2"}))
    client = create_app(short, web=web_settings()).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get("/login")
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")  # another process writing for a long time
    try:
        answer = client.post("/login", data={"login": "E0017", "password": "budgetflow-demo",
                                             "csrf_token": csrf_token(page.get_data(as_text=True))})
    finally:
        holder.rollback()
        holder.close()
        short.dispose()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert b"nothing was saved" in answer.data
