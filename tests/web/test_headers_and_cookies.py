"""Security headers on every page, secure cookies in production, default secrets refused."""

import pytest

from loanfund.config import ConfigError
from tests.conftest import make_app


def test_pages_carry_a_strict_csp_and_the_usual_headers(client):
    response = client.get("/account/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client):
    for url in ("/", "/account/login", "/signup", "/account/reset"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and "<style" not in html and " style=" not in html, url
        assert "https://" not in html.split("<body")[0], url  # no CDN in the head


def test_production_refuses_the_default_secrets(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        make_app(tmp_path, ENV="production")


def test_production_session_cookie_is_secure_httponly_and_samesite_lax(tmp_path):
    secrets = {
        key: "x" * 40 + key for key in ("SECRET_KEY", "SECURITY_PASSWORD_SALT", "TOTP_SECRET")
    }
    app = make_app(tmp_path, ENV="production", **secrets)
    assert app.debug is False
    client = app.test_client()
    response = client.get("/account/login", base_url="https://fund.example.vn")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_error_page_shows_no_stack_trace(app, client):
    @app.get("/_boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/_boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert "nothing was changed" in body
