"""The demo fund: a provincial cooperative support fund and the cooperatives it serves.

Cooperatives, places, sectors and member figures are those reported in Vietnamese provincial
press (Thừa Thiên Huế and Phú Thọ, 2023–2025); registration numbers, tax codes, founding
dates, charter capital and contacts are invented for the demo and belong to no one.
"""

from __future__ import annotations

DEMO_PASSWORD = "demo-Quy-2026"  # noqa: S105 - printed on screen for the demo

FUND_NAME = "Quỹ hỗ trợ phát triển hợp tác xã tỉnh Thừa Thiên Huế (demo)"

#: Capital paid in, 25 billion VND in all: (days before the demo's today, amount, source,
#: reference). Relative dates keep the demo current whenever it is loaded.
CAPITAL = (
    (
        700,
        "20000000000",
        "Ngân sách tỉnh cấp vốn điều lệ ban đầu cho Quỹ (Provincial budget: initial charter "
        "capital)",
        "QĐ 112/QĐ-UBND; GBC 0001",
    ),
    (
        150,
        "5000000000",
        "Liên minh Hợp tác xã tỉnh bổ sung vốn (Cooperative Union: additional capital)",
        "QĐ 45/QĐ-LMHTX; GBC 0417",
    ),
)

#: Loan products (rates and limits are illustrative; a typical provincial loan is 200–500
#: million VND).
PRODUCTS = (
    {
        "code": "TB-2026",
        "name": "Vay ưu đãi đầu tư máy móc, thiết bị",
        "description": "Cho hợp tác xã đầu tư máy móc, thiết bị, dây chuyền sơ chế, chế biến và "
        "đóng gói. Lãi trả hằng tháng, gốc trả hằng quý.",
        "purposes": ("equipment", "trade"),
        "min_amount": "100000000",
        "max_amount": "1000000000",
        "min_term_months": 12,
        "max_term_months": 60,
        "default_term_months": 36,
        "annual_rate_pct": "5.4",
        "schedule_options": {"method": "equal_principal", "principal_every": 3},
    },
    {
        "code": "NX-2026",
        "name": "Vay xây dựng nhà xưởng, kho bãi",
        "description": "Xây dựng, mở rộng nhà xưởng, kho và cơ sở sản xuất. Trả đều hằng tháng "
        "(niên kim), ân hạn gốc 6 tháng, kỳ trả làm tròn đến nghìn đồng.",
        "purposes": ("workshop",),
        "min_amount": "200000000",
        "max_amount": "2000000000",
        "min_term_months": 24,
        "max_term_months": 84,
        "default_term_months": 60,
        "annual_rate_pct": "5.4",
        "schedule_options": {
            "method": "annuity",
            "principal_grace": 6,
            "installment_multiple": "1000",
        },
    },
    {
        "code": "VLD-2026",
        "name": "Vay vốn lưu động",
        "description": "Mua nguyên liệu, vật tư, giống cây trồng, vật nuôi theo mùa vụ. Gốc và lãi "
        "trả hằng tháng.",
        "purposes": ("working_capital", "crops_livestock"),
        "min_amount": "50000000",
        "max_amount": "500000000",
        "min_term_months": 6,
        "max_term_months": 12,
        "default_term_months": 12,
        "annual_rate_pct": "4.8",
        "schedule_options": {"method": "equal_principal"},
    },
)

#: One user per staff role: (email, full name, roles).
STAFF = (
    ("admin@demo.quyhtx.vn", "Nguyễn Thị Lan", ("admin",)),
    ("officer@demo.quyhtx.vn", "Trần Văn Minh", ("officer",)),
    ("approver@demo.quyhtx.vn", "Lê Quang Huy", ("approver",)),
    ("inspector@demo.quyhtx.vn", "Phạm Thị Hoa", ("inspector",)),
    ("auditor@demo.quyhtx.vn", "Hoàng Đức Anh", ("auditor",)),
)

#: Cooperatives with their representative (email, full name) and verification status.
COOPERATIVES = (
    {
        "name": "HTX Nông nghiệp sản xuất và chế biến Quảng Phú",
        "legal_type": "cooperative",
        "registration_no": "3301A-0147",
        "tax_code": "3301547812",
        "province": "Thừa Thiên Huế",
        "district": "Quảng Điền",
        "address": "Xã Đan Điền, thành phố Huế",
        "sector": "Chế biến lạc rang (thương hiệu Hiunts)",
        "founded_on": "2015-03-12",
        "members_count": 32,
        "women_members": 14,
        "ethnic_minority_members": 0,
        "charter_capital": "1850000000",
        "contact_name": "Võ Văn Phú",
        "contact_phone": "0234 3551 208",
        "representative": ("quangphu@demo.quyhtx.vn", "Võ Văn Phú"),
        "status": "verified",
    },
    {
        "name": "HTX Nông nghiệp xanh Narasa",
        "legal_type": "cooperative",
        "registration_no": "3301B-0288",
        "tax_code": "3301698455",
        "province": "Thừa Thiên Huế",
        "district": "Thành phố Huế",
        "address": "Phường Vỹ Dạ, thành phố Huế",
        "sector": "Đông trùng hạ thảo, trà cung đình, trà sen",
        "founded_on": "2018-06-04",
        "members_count": 12,
        "women_members": 7,
        "ethnic_minority_members": 0,
        "charter_capital": "2300000000",
        "contact_name": "Nguyễn Thị Thu Hà",
        "contact_phone": "0905 417 366",
        "representative": ("narasa@demo.quyhtx.vn", "Nguyễn Thị Thu Hà"),
        "status": "verified",
    },
    {
        "name": "HTX Sản xuất và dịch vụ mây tre đan Bao La",
        "legal_type": "cooperative",
        "registration_no": "3301C-0052",
        "tax_code": "3300412976",
        "province": "Thừa Thiên Huế",
        "district": "Quảng Điền",
        "address": "Xã Đan Điền, thành phố Huế",
        "sector": "Thủ công mỹ nghệ mây tre đan, xuất khẩu",
        "founded_on": "2006-09-20",
        "members_count": 88,
        "women_members": 51,
        "ethnic_minority_members": 0,
        "charter_capital": "3200000000",
        "contact_name": "Trần Hữu Bình",
        "contact_phone": "0234 3552 119",
        "representative": ("baola@demo.quyhtx.vn", "Trần Hữu Bình"),
        "status": "verified",
    },
    {
        "name": "Tổ hợp tác may Diệu Khánh",
        "legal_type": "group_member",
        "registration_no": "THT-VD-023",
        "tax_code": "3301822740",
        "province": "Thừa Thiên Huế",
        "district": "Thành phố Huế",
        "address": "Vạn Dương, phường Vỹ Dạ, thành phố Huế",
        "sector": "May mặc",
        "founded_on": "2019-02-15",
        "members_count": 23,
        "women_members": 21,
        "ethnic_minority_members": 0,
        "charter_capital": "450000000",
        "contact_name": "Lê Thị Diệu Khánh",
        "contact_phone": "0914 226 518",
        "representative": ("dieukhanh@demo.quyhtx.vn", "Lê Thị Diệu Khánh"),
        "status": "verified",
    },
    {
        "name": "HTX Bưởi và dịch vụ tổng hợp Vân Du",
        "legal_type": "cooperative",
        "registration_no": "2601A-0311",
        "tax_code": "2600734215",
        "province": "Phú Thọ",
        "district": "Đoan Hùng",
        "address": "Xã Vân Du, huyện Đoan Hùng, tỉnh Phú Thọ",
        "sector": "Trồng bưởi đạt chuẩn VietGAP",
        "founded_on": "2012-11-02",
        "members_count": 46,
        "women_members": 19,
        "ethnic_minority_members": 3,
        "charter_capital": "2750000000",
        "contact_name": "Nguyễn Văn Đoan",
        "contact_phone": "0210 3881 472",
        "representative": ("vandu@demo.quyhtx.vn", "Nguyễn Văn Đoan"),
        "status": "verified",
    },
    {
        "name": "HTX Chè Suối Rèo",
        "legal_type": "cooperative",
        "registration_no": "2601B-0419",
        "tax_code": "2600856391",
        "province": "Phú Thọ",
        "district": "Thanh Sơn",
        "address": "Xã Thục Luyện, huyện Thanh Sơn, tỉnh Phú Thọ",
        "sector": "Chè và du lịch sinh thái (làng sinh thái Ngọc Đồng)",
        "founded_on": "2020-04-18",
        "members_count": 11,
        "women_members": 6,
        "ethnic_minority_members": 5,
        "charter_capital": "600000000",
        "contact_name": "Đinh Thị Rèo",
        "contact_phone": "0987 552 031",
        "representative": ("suoireo@demo.quyhtx.vn", "Đinh Thị Rèo"),
        "status": "pending",
    },
    {
        "name": "HTX Dệt thổ cẩm xanh Azakooh",
        "legal_type": "cooperative",
        "registration_no": "3301D-0533",
        "tax_code": "3301903388",
        "province": "Thừa Thiên Huế",
        "district": "A Lưới",
        "address": "Huyện A Lưới, thành phố Huế",
        "sector": "Dệt thổ cẩm",
        "founded_on": "2021-08-09",
        "members_count": 17,
        "women_members": 16,
        "ethnic_minority_members": 17,
        "charter_capital": "350000000",
        "contact_name": "Hồ Thị Azakooh",
        "contact_phone": "0935 608 447",
        "representative": ("azakooh@demo.quyhtx.vn", "Hồ Thị Azakooh"),
        "status": "pending",
    },
)
