"""Verification report data and its rendering in Vietnamese (default) or English.

Problems and warnings are stable English codes (API); sentences come from ``MESSAGES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from signing.errors import PdfHybridXrefUnverifiable
from signing.validation.active_content import Finding
from signing.vntime import iso_vn

Lang = Literal["vi", "en"]
# Document problems that mean nothing was validated (not that a signature failed).
UNVERIFIABLE = frozenset({PdfHybridXrefUnverifiable.code.lower()})

MESSAGES: dict[str, dict[Lang, str]] = {
    "title": {"vi": "KẾT QUẢ KIỂM TRA CHỮ KÝ SỐ", "en": "SIGNATURE VERIFICATION REPORT"},
    "document_valid": {
        "vi": "Tài liệu hợp lệ: tất cả chữ ký số hợp lệ và tài liệu không bị thay đổi sau khi ký.",
        "en": "Document valid: every signature is valid and the document was not changed after signing.",
    },
    "document_invalid": {"vi": "Tài liệu KHÔNG hợp lệ.", "en": "Document NOT valid."},
    "document_unverifiable": {
        "vi": "KHÔNG kiểm tra được chữ ký của tài liệu.",
        "en": "The document's signatures could NOT be validated.",
    },
    "no_signatures": {"vi": "Tài liệu không có chữ ký số.", "en": "The document carries no signature."},
    "active_content": {
        "vi": "⚠ Tệp chứa nội dung có thể tự chạy hoặc kết nối ra ngoài: {items}. Không mở liên kết, tệp đính kèm "
        "hay cho phép chạy mã từ tệp này.",
        "en": "⚠ The file holds content that can run or reach elsewhere: {items}. Do not open its links or "
        "attachments, nor let it run code.",
    },
    "signature": {"vi": "Chữ ký {n} (trường {field})", "en": "Signature {n} (field {field})"},
    "signer": {"vi": "Người ký: {value}", "en": "Signer: {value}"},
    "claimed_time": {
        "vi": "Thời điểm ký (theo máy của người ký): {value}",
        "en": "Signing time (claimed by the signer): {value}",
    },
    "timestamp_time": {"vi": "Dấu thời gian: {value}", "en": "Time-stamp: {value}"},
    "level": {"vi": "Mức chữ ký PAdES: {value}", "en": "PAdES level: {value}"},
    "level_none": {"vi": "Mức chữ ký PAdES: không đạt", "en": "PAdES level: none"},
    "signature_ok": {"vi": "Chữ ký hợp lệ", "en": "Signature is valid"},
    "signature_bad": {"vi": "Chữ ký KHÔNG hợp lệ", "en": "Signature is NOT valid"},
    "signature_not_validated": {"vi": "Chữ ký chưa được kiểm tra", "en": "Signature not validated"},
    "intact": {
        "vi": "Nội dung được ký còn nguyên vẹn",
        "en": "The signed content is intact",
    },
    "not_unchanged": {
        "vi": "Tài liệu không bị thay đổi sau khi ký",
        "en": "The document was not changed after signing",
    },
    "allowed_changes": {
        "vi": "Sau khi ký, tài liệu chỉ được bổ sung chữ ký hoặc dữ liệu kiểm tra hợp lệ (được phép)",
        "en": "After signing, only signatures or validation data were added (allowed)",
    },
    "trusted": {
        "vi": "Chứng thư số được tin cậy (xây dựng được chuỗi đến chứng thư gốc đã cấu hình)",
        "en": "The certificate is trusted (it chains to a configured root)",
    },
    "timestamp_ok": {"vi": "Dấu thời gian hợp lệ", "en": "The time-stamp is valid"},
    "revocation_good": {
        "vi": "Chứng thư số chưa bị thu hồi tại thời điểm ký (đã kiểm tra OCSP/CRL)",
        "en": "The certificate was not revoked at signing time (OCSP/CRL checked)",
    },
    "revisions": {
        "vi": "Chữ ký bao phủ phiên bản {signed}/{total} của tài liệu",
        "en": "The signature covers revision {signed} of {total}",
    },
    "modified_in_revision": {
        "vi": "Thay đổi không được phép nằm ở phiên bản {n} của tài liệu",
        "en": "The disallowed change is in revision {n} of the document",
    },
    # Problems (make a signature or the document invalid).
    "integrity_broken": {
        "vi": "Nội dung đã bị sửa đổi sau khi ký (mã băm không khớp)",
        "en": "The signed content was altered (digest mismatch)",
    },
    "signature_invalid": {
        "vi": "Giá trị chữ ký số không đúng",
        "en": "The cryptographic signature does not verify",
    },
    "untrusted": {
        "vi": "Chứng thư số không được tin cậy (không xây dựng được chuỗi đến chứng thư gốc đã cấu hình)",
        "en": "The certificate is not trusted (no chain to a configured root)",
    },
    "revoked": {"vi": "Chứng thư số đã bị thu hồi", "en": "The certificate has been revoked"},
    "modified_after_signing": {
        "vi": "Tài liệu đã bị thay đổi sau khi ký",
        "en": "The document was changed after signing",
    },
    "coverage_incomplete": {
        "vi": "Chữ ký không bao phủ toàn bộ phiên bản tài liệu",
        "en": "The signature does not cover its whole document revision",
    },
    "timestamp_invalid": {"vi": "Dấu thời gian không hợp lệ", "en": "The time-stamp is not valid"},
    "signature_unreadable": {
        "vi": "Không đọc được dữ liệu chữ ký",
        "en": "The signature data cannot be read",
    },
    PdfHybridXrefUnverifiable.code.lower(): {
        "vi": PdfHybridXrefUnverifiable.message_vi,
        "en": PdfHybridXrefUnverifiable.message_en,
    },
    "not_validated": {
        "vi": "Không kiểm tra chữ ký này (lý do ở phần đầu báo cáo)",
        "en": "This signature was not validated (why: at the top of the report)",
    },
    # Warnings (reported, do not invalidate).
    "revocation_not_checked": {
        "vi": "Không kiểm tra được trạng thái thu hồi chứng thư số",
        "en": "The certificate revocation status could not be checked",
    },
    "no_timestamp": {
        "vi": "Chữ ký không có dấu thời gian; thời điểm ký do máy người ký tự khai",
        "en": "No time-stamp; the signing time is only claimed by the signer",
    },
    "timestamp_untrusted": {
        "vi": "Dấu thời gian không được tin cậy",
        "en": "The time-stamp authority is not trusted",
    },
    "not_pades": {
        "vi": "Chữ ký không theo chuẩn PAdES (ETSI.CAdES.detached)",
        "en": "The signature is not PAdES (ETSI.CAdES.detached)",
    },
}


def message(code: str, lang: Lang = "vi", **kwargs: Any) -> str:
    entry = MESSAGES.get(code)
    if entry is None:
        return code
    return entry[lang].format(**kwargs)


def _fmt_time(value: datetime | None) -> str | None:
    return iso_vn(value) if value is not None else None


@dataclass
class SignatureReport:
    """What verification found for one embedded signature."""

    field_name: str
    signer_name: str | None = None
    signer_subject: str | None = None
    signer_serial: str | None = None
    signing_time_claimed: datetime | None = None
    timestamp_time: datetime | None = None
    timestamp_present: bool = False
    timestamp_valid: bool | None = None
    timestamp_trusted: bool | None = None
    intact: bool = False
    signature_valid: bool = False
    trusted: bool = False
    revocation: Literal["not_checked", "good", "revoked"] = "not_checked"
    coverage: str = "unclear"
    covers_whole_file: bool = False
    modification_level: str | None = None
    modified_after_signing: bool = False
    level: str | None = None
    subfilter: str | None = None
    signed_revision: int | None = None
    total_revisions: int | None = None
    modified_in_revision: int | None = None
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def verdict_code(self) -> str:
        if self.ok:
            return "signature_ok"
        return "signature_not_validated" if "not_validated" in self.problems else "signature_bad"

    def to_dict(self) -> dict[str, Any]:
        return {
            "field_name": self.field_name,
            "ok": self.ok,
            "signer_name": self.signer_name,
            "signer_subject": self.signer_subject,
            "signer_serial": self.signer_serial,
            "signing_time_claimed": _fmt_time(self.signing_time_claimed),
            "timestamp": {
                "present": self.timestamp_present,
                "time": _fmt_time(self.timestamp_time),
                "valid": self.timestamp_valid,
                "trusted": self.timestamp_trusted,
            },
            "intact": self.intact,
            "signature_valid": self.signature_valid,
            "trusted": self.trusted,
            "revocation": self.revocation,
            "coverage": self.coverage,
            "covers_whole_file": self.covers_whole_file,
            "modification_level": self.modification_level,
            "modified_after_signing": self.modified_after_signing,
            "signed_revision": self.signed_revision,
            "total_revisions": self.total_revisions,
            "modified_in_revision": self.modified_in_revision,
            "level": self.level,
            "subfilter": self.subfilter,
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
        }

    def render_lines(self, n: int, lang: Lang) -> list[str]:
        lines = [message("signature", lang, n=n, field=self.field_name)]
        lines.append("  " + message(self.verdict_code, lang))
        if self.signer_name:
            lines.append("  " + message("signer", lang, value=self.signer_name))
        if self.signing_time_claimed:
            lines.append("  " + message("claimed_time", lang, value=_fmt_time(self.signing_time_claimed)))
        if self.timestamp_time:
            lines.append("  " + message("timestamp_time", lang, value=_fmt_time(self.timestamp_time)))
        if self.level:
            lines.append("  " + message("level", lang, value=self.level))
        elif "not_validated" not in self.problems:
            lines.append("  " + message("level_none", lang))
        if self.intact:
            lines.append("  ✔ " + message("intact", lang))
        if self.intact and not self.modified_after_signing:
            code = "not_unchanged" if self.modification_level in (None, "none") else "allowed_changes"
            lines.append("  ✔ " + message(code, lang))
        if self.trusted:
            lines.append("  ✔ " + message("trusted", lang))
        if self.revocation == "good":
            lines.append("  ✔ " + message("revocation_good", lang))
        if self.signed_revision and self.total_revisions:
            lines.append("  " + message("revisions", lang, signed=self.signed_revision, total=self.total_revisions))
        if self.modified_in_revision:
            lines.append("  ✘ " + message("modified_in_revision", lang, n=self.modified_in_revision))
        if self.timestamp_present and self.timestamp_valid:
            lines.append("  ✔ " + message("timestamp_ok", lang))
        lines += ["  ✘ " + message(code, lang) for code in self.problems]
        lines += ["  ⚠ " + message(code, lang) for code in self.warnings]
        return lines


@dataclass
class VerificationReport:
    """Verification of every signature in one PDF."""

    signatures: list[SignatureReport]
    problems: list[str] = field(default_factory=list)
    active_content: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return bool(self.signatures) and not self.problems and all(s.ok for s in self.signatures)

    @property
    def verifiable(self) -> bool:
        """False when the file could not be validated at all (its problems say why), as opposed to failing."""
        return not UNVERIFIABLE.intersection(self.problems)

    @property
    def verdict_code(self) -> str:
        """The MESSAGES code of the one-line verdict."""
        if self.valid:
            return "document_valid"
        return "document_invalid" if self.verifiable else "document_unverifiable"

    @property
    def warnings(self) -> list[str]:
        document = {"active_content"} if self.active_content else set()
        return sorted(document | {w for s in self.signatures for w in s.warnings})

    def active_content_line(self, lang: Lang = "vi") -> str | None:
        """The warning about active content (:mod:`signing.validation.active_content`), if the file holds any."""
        if not self.active_content:
            return None
        items = [f.describe_vi() if lang == "vi" else f"{f.kind} ({f.where})" for f in self.active_content[:8]]
        return message("active_content", lang, items="; ".join(items))

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "signature_count": len(self.signatures),
            "problems": list(self.problems),
            "warnings": self.warnings,
            "active_content": [{"kind": f.kind, "where": f.where} for f in self.active_content],
            "signatures": [s.to_dict() for s in self.signatures],
        }

    def render(self, lang: Lang = "vi") -> str:
        lines = [message("title", lang), message(self.verdict_code, lang)]
        lines += [message(code, lang) for code in self.problems]
        notice = self.active_content_line(lang)
        if notice:
            lines.append(notice)
        for n, sig in enumerate(self.signatures, start=1):
            lines.append("")
            lines += sig.render_lines(n, lang)
        return "\n".join(lines)
