"""Security headers on every page, secure cookies in production, default secrets refused."""

import pytest

from loanfund.config import ConfigError
from loanfund.domain.roles import Role
from tests.conftest import make_app, sign_in


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


def _production_secrets() -> dict[str, str]:
    return {key: "x" * 40 + key for key in ("SECRET_KEY", "SECURITY_PASSWORD_SALT", "TOTP_SECRET")}


@pytest.mark.parametrize("secret", ["", "short-but-not-empty"])
def test_production_refuses_a_missing_or_short_secret_key(tmp_path, secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        make_app(tmp_path, ENV="production", **{**_production_secrets(), "SECRET_KEY": secret})


def test_the_csp_has_no_wildcard_and_no_inline_or_eval_anywhere(client):
    csp = client.get("/account/login").headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["default-src"] in (["'self'"], ["'none'"])
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives.get("object-src", ["'none'"]) == ["'none'"]
    for name, sources in directives.items():
        for source in sources:
            assert "*" not in source, (name, source)
            assert source not in ("http:", "https:", "data:", "blob:") or name == "img-src", (
                name,
                source,
            )
            assert source not in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'"), name


def test_a_signed_in_page_and_an_error_page_carry_the_headers_too(client, factory):
    user = factory.user(Role.ADMIN)
    sign_in(client, user.email)
    for url in ("/home", "/admin/users", "/no-such-page"):
        response = client.get(url)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["X-Frame-Options"] == "DENY", url


def test_production_runs_without_debug_and_with_secure_remember_cookies(tmp_path):
    app = make_app(tmp_path, ENV="production", **_production_secrets())
    assert app.debug is False and not app.config.get("DEBUG")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert app.config["PREFERRED_URL_SCHEME"] == "https"


def test_a_production_error_page_shows_no_stack_trace(tmp_path):
    app = make_app(tmp_path, ENV="production", **{**_production_secrets(), "TESTING": False})

    @app.get("/_boom")
    def boom():
        raise RuntimeError("secret internals in /srv/loanfund/app.py")

    with app.app_context():
        response = app.test_client().get("/_boom", base_url="https://fund.example.vn")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body and ".py" not in body
    assert "Werkzeug Debugger" not in body


def test_a_form_without_a_csrf_token_is_caught_by_the_matrix_check():
    """The matrix's page check (every POST form carries a token) can fail."""
    from tests.web.test_authorization_matrix import _Forms

    parser = _Forms()
    parser.feed(
        '<form method="post" action="/a"><input name="csrf_token" value="t"></form>'
        '<form method="POST" action="/b"><input name="x"></form>'
        '<form action="/search"><input name="q"></form>'
    )
    missing = [form["action"] for form in parser.forms if form["post"] and not form["token"]]
    assert missing == ["/b"]
