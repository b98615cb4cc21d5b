"""PAdES signing (B-B … B-LTA): the fast byte-level and the staged pyHanko engine behind one ``PadesSigner``.

Also the batch signer, long-term validity extension, and what a signature looks like on the page
(appearances, fonts, QR stamp).
"""

from __future__ import annotations

from signing.signers.appearance import Appearance, copy_stamp, in_blank_space, make_room, result_seal
from signing.signers.batch_signer import BatchConfig, BatchSigner
from signing.signers.fastpades import FastPadesSigner, PadesLevel
from signing.signers.fonts import VietnameseFontFactory, find_font
from signing.signers.ltv import TsaProbe, extend_lta, last_timestamp_expiry, needs_extension, retimestamp_job
from signing.signers.marks import mark_copy, mark_result
from signing.signers.pades import (
    SUPPORTED_LEVELS,
    PadesSigner,
    StagedPadesSigner,
    last_signature_token,
    pades_level,
    sign_pdf,
    signer_for,
)
from signing.signers.pdfupdate import has_signatures, is_certified
from signing.signers.qr import QR_SIZE_PT, QrPayload, add_qr, beside_qr

__all__ = [
    "QR_SIZE_PT",
    "SUPPORTED_LEVELS",
    "Appearance",
    "BatchConfig",
    "BatchSigner",
    "FastPadesSigner",
    "PadesLevel",
    "PadesSigner",
    "QrPayload",
    "StagedPadesSigner",
    "TsaProbe",
    "VietnameseFontFactory",
    "add_qr",
    "beside_qr",
    "copy_stamp",
    "extend_lta",
    "find_font",
    "has_signatures",
    "in_blank_space",
    "is_certified",
    "last_signature_token",
    "last_timestamp_expiry",
    "make_room",
    "mark_copy",
    "mark_result",
    "needs_extension",
    "pades_level",
    "result_seal",
    "retimestamp_job",
    "sign_pdf",
    "signer_for",
]
