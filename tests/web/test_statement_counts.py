"""No page's number of SQL statements grows with the book (no N+1): the busiest pages are
counted on the demo fund (7 loans) and on the demo grown to 160 loans, and each page must run
exactly as many statements at the larger size as at the smaller one.

The list pages show a page of rows at a time (50 by default), so the larger book fills more
rows on each page than the smaller one: a query run once a row would show up as a difference.
"""

from sqlalchemy import event, func, select

from loanfund.bench.book import copy_loans
from loanfund.models import Loan

#: The pages the performance issue names (and the other lists), with a filter and a search
#: where the page has them.
PAGES = {
    "dashboard": "/dashboard",
    "loans, filtered and searched": "/loans/?status=active&q=hop+tac&sort=outstanding&dir=desc",
    "loan": "/loans/{loan_id}",
    "application queue": "/applications/queue?tab=all",
    "fund position (books)": "/books/",
    "receipts": "/loans/repayments/",
    "cooperatives": "/cooperatives/",
    "inspections": "/inspections/",
    "home": "/home",
}


def _counts(client, engine, loan_id):
    """Statements each page runs: the first time after a change (its figures worked out) and
    the next time (its figures kept until the database changes, ``web.figures``)."""
    counts = {}
    seen = []

    def count(*_args):
        seen.append(1)

    for name, url in PAGES.items():
        url = url.format(loan_id=loan_id)
        runs = []
        event.listen(engine, "before_cursor_execute", count)
        try:
            for _request in range(2):
                seen.clear()
                assert client.get(url).status_code == 200, url
                runs.append(len(seen))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts[name] = tuple(runs)
    return counts


def test_no_page_runs_more_statements_as_the_book_grows(client, session, demo_admin):
    engine = session.get_bind()
    loan_id = session.scalar(select(Loan.id).where(Loan.contract_no.like("HĐ-%")).limit(1))
    small = _counts(client, engine, loan_id)  # the demo: 7 loans
    copy_loans(session, 160, details=True)  # more than a page of loans and of receipts
    session.commit()
    assert session.scalar(select(func.count(Loan.id))) == 160
    large = _counts(client, engine, loan_id)
    assert large == small
    # Counted, not vacuous: every page reads the database.
    assert all(first > 0 and kept > 0 for first, kept in small.values())
    # The dashboard's figures are worked out once, then kept.
    assert small["dashboard"][0] > small["dashboard"][1]
