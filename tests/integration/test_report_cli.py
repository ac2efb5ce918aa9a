"""`loanfund report position`: the fund's figures and its applications by status."""

import json
from decimal import Decimal

from flask_migrate import upgrade

from loanfund.domain.access import SYSTEM
from loanfund.models import db
from loanfund.services.ledger import record_capital_contribution
from loanfund.services.settings import initialize_fund
from tests.conftest import TODAY, make_app


def test_the_position_report_as_json(tmp_path):
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'report.sqlite3'}")
    with app.app_context():
        upgrade()
        initialize_fund(
            db.session, actor=SYSTEM, fund_name="F", currency="VND", timezone="Asia/Ho_Chi_Minh"
        )
        record_capital_contribution(
            db.session,
            actor=SYSTEM,
            amount=Decimal(25_000_000_000),
            value_date=TODAY,
            source="Budget",
            reference="QĐ 1",
            today=TODAY,
        )
    result = app.test_cli_runner().invoke(
        args=["report", "position", "--json", "--as-of", TODAY.isoformat()]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["fund"]["capital"] == "25000000000"
    assert report["fund"]["available_to_lend"] == "25000000000"
    assert report["applications"]["draft"] == 0 and len(report["applications"]) == 8
    assert report["loans"]["active"] == 0 and len(report["loans"]) == 6
    assert report["fund"]["cumulative_disbursed"] == "0"
    assert report["decisions"] == {
        "decided": 0,
        "average_working_days": None,
        "longest_working_days": None,
        "late_now": 0,
    }
    with app.app_context():
        db.engine.dispose()


def test_an_unmigrated_database_gets_a_sentence_not_a_traceback(tmp_path):
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = app.test_cli_runner().invoke(args=["report", "position"])
    assert result.exit_code == 1
    assert "run `loanfund db upgrade`" in result.output and "Traceback" not in result.output
    with app.app_context():
        db.engine.dispose()
