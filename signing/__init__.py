"""Signing and verifying PDFs (PAdES), split by concern.

``signing.signers`` (sign_pdf, batch and LTV), ``signing.timestamps`` (RFC 3161 sources),
``signing.validation`` (verify, reports, sandbox), ``signing.keys`` (files and HSMs),
``signing.cms`` (DER/CMS parts), and ``signing.dev`` (development PKI and TSA, never imported by
production code). ``signing.errors``, ``signing.vntime`` and ``signing.pdfcompat`` are shared by all.
"""
