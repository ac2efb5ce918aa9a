"""Fixtures shared by the page tests."""

import pytest
from sqlalchemy import select

from loanfund.models import User
from loanfund.services.demo import load_demo_fund
from loanfund.services.file_store import FileStore
from tests.conftest import TODAY, sign_in


@pytest.fixture
def demo_admin(client, session, tmp_path, password_hash):
    """The demo fund, with its administrator signed in."""
    load_demo_fund(
        session,
        hash_password=lambda password: password_hash,
        today=TODAY,
        store=FileStore(tmp_path),
    )
    admin = session.scalar(select(User).where(User.email.like("admin@%")))
    sign_in(client, admin.email)
    return admin
