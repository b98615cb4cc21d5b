"""The formats of the identifiers the catalogue holds, one definition each.

ASCII digits only: ``\\d`` takes any Unicode digit, and a code with an Arabic-Indic digit
breaks latin-1 HTTP headers later. Each pattern serves pydantic (whose Rust engine reads
``$`` as the end of the string) and Python, which must use ``fullmatch`` (Python's ``$``
also matches before a final newline; ``fullmatch`` does not let one through).
"""

from __future__ import annotations

import re

_AGENCY = r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}"
# Mã định danh điện tử của cơ quan, tổ chức (QĐ 20/2020/QĐ-TTg): four levels, e.g. 000.00.12.H26.
AGENCY_CODE = re.compile(rf"^{_AGENCY}$")
# Mã hồ sơ: the receiving agency's code, the date (yymmdd) and a number of the day.
DOSSIER_CODE = re.compile(rf"^{_AGENCY}-[0-9]{{6}}-[0-9]{{4}}$")
PROCEDURE_CODE = re.compile(r"^[0-9]\.[0-9]{6}$")
# Số định danh cá nhân: twelve digits.
OWNER_ID = re.compile(r"^[0-9]{12}$")
