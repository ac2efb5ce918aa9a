"""loanfund: a revolving loan fund management system."""

__version__ = "0.1.0"


def create_app(test_config=None):
    """Build the Flask application (see :func:`loanfund.app.create_app`)."""
    from loanfund.app import create_app as _create_app

    return _create_app(test_config)
