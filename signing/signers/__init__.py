"""PAdES signing (B-B … B-LTA): the staged pyHanko engine and the fast byte-level engine behind ``sign_pdf``.

Also the batch signer, long-term validity extension, and what a signature looks like on the page
(appearances, fonts, QR stamp).
"""

from __future__ import annotations

from signing.signers.appearance import Appearance, copy_stamp, in_blank_space, make_room, result_seal
from signing.signers.batch_signer import BatchConfig, BatchSigner, make_signer
from signing.signers.fastpades import FastPadesSigner
from signing.signers.fonts import VietnameseFontFactory, find_font
from signing.signers.ltv import TsaProbe, extend_lta, last_timestamp_expiry, needs_extension, retimestamp_job
from signing.signers.pades import PadesLevel, last_signature_token, pades_level, sign_pdf
from signing.signers.pdfupdate import has_signatures, is_certified
from signing.signers.qr import QR_SIZE_PT, QrPayload, add_qr, beside_qr

__all__ = [
    "QR_SIZE_PT",
    "Appearance",
    "BatchConfig",
    "BatchSigner",
    "FastPadesSigner",
    "PadesLevel",
    "QrPayload",
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
    "make_signer",
    "needs_extension",
    "pades_level",
    "result_seal",
    "retimestamp_job",
    "sign_pdf",
]
