"""Search keys without diacritics, and the one authorization check."""

import pytest

from loanfund.domain.access import Actor, Permission, authorize
from loanfund.domain.errors import NotFound, NotPermitted
from loanfund.domain.roles import Role, check_role_combination
from loanfund.domain.text import fold


def test_search_key_drops_vietnamese_diacritics_and_case():
    assert fold("Hợp tác xã  ĐAN ĐIỀN") == "hop tac xa dan dien"
    assert fold("Mây tre đan Bao La") == fold("may tre dan bao la")


def applicant(cooperative_id: int) -> Actor:
    return Actor(
        user_id=10,
        label="rep@example.vn",
        roles=frozenset({Role.APPLICANT}),
        cooperative_id=cooperative_id,
    )


def test_an_applicant_is_told_another_cooperatives_record_does_not_exist():
    with pytest.raises(NotFound):
        authorize(applicant(1), Permission.VIEW_COOPERATIVE, cooperative_id=2)


def test_an_applicant_may_see_its_own_cooperative_but_not_verify_it():
    authorize(applicant(1), Permission.VIEW_COOPERATIVE, cooperative_id=1)
    with pytest.raises(NotPermitted):
        authorize(applicant(1), Permission.VERIFY_COOPERATIVE, cooperative_id=1)


def test_an_auditor_reads_but_cannot_manage_users_or_settings():
    auditor = Actor(user_id=3, label="a@x.vn", roles=frozenset({Role.AUDITOR}))
    authorize(auditor, Permission.VIEW_AUDIT_LOG)
    authorize(auditor, Permission.VIEW_SETTINGS)
    for permission in (Permission.MANAGE_USERS, Permission.MANAGE_SETTINGS, Permission.VIEW_OUTBOX):
        with pytest.raises(NotPermitted):
            authorize(auditor, permission)


def test_staff_may_hold_several_roles_and_get_the_union_of_their_rights():
    both = Actor(user_id=4, label="b@x.vn", roles=frozenset({Role.INSPECTOR, Role.ADMIN}))
    authorize(both, Permission.MANAGE_USERS)
    authorize(both, Permission.LIST_COOPERATIVES)


def test_a_representative_cannot_also_be_staff_nor_exist_without_a_cooperative():
    problems = check_role_combination({Role.APPLICANT, Role.OFFICER}, has_cooperative=False)
    assert len(problems) == 2
    assert check_role_combination({Role.OFFICER}, has_cooperative=True) == [
        "Staff accounts do not belong to a cooperative."
    ]
    assert check_role_combination({Role.APPLICANT}, has_cooperative=True) == []
