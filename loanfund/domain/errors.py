"""Errors users see, one type per kind of failure.

Messages are sentences in an officer's words, with the numbers. The web layer maps each kind to
an HTTP status (:attr:`LoanFundError.http_status`) and shows the message; the CLI prints it.
Checks that can find several problems raise :class:`RuleViolation` with all of them.
"""

from __future__ import annotations

from collections.abc import Iterable


class LoanFundError(Exception):
    """Base of every error that is the user's to read."""

    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(LoanFundError):
    """The object does not exist, or the user may not know that it exists."""

    http_status = 404


class NotPermitted(LoanFundError):
    """The user's roles do not allow the action (or four-eyes forbids it)."""

    http_status = 403


class RuleViolation(LoanFundError):
    """The request breaks one or more of the fund's rules; ``problems`` lists every one."""

    http_status = 422

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        if not self.problems:
            raise ValueError("A RuleViolation needs at least one problem.")
        super().__init__(" ".join(self.problems))


class InvalidTransition(LoanFundError):
    """The object is not in a state that allows the action (e.g. already verified)."""

    http_status = 409


class Conflict(LoanFundError):
    """Someone else changed the object first, or the value must be unique and is taken."""

    http_status = 409
