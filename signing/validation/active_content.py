"""What in a PDF can run something or reach elsewhere when the file is opened or used.

An agency must not sign such a file as an e-result: a citizen's viewer would run it with the
agency's signature on it. Looked for everywhere a PDF can hold it (ISO 32000-2): the catalog's
/OpenAction and /AA, document-level JavaScript and embedded files in the name tree, XFA forms,
each page's /AA, each annotation's /A and /AA (links, widgets, screens), file attachments and
rich media, and each form field's /A and /AA, following every action's /Next chain.

Actions that only move within the document (GoTo, Named, Thread, SetOCGState, Hide) and links to
``https:`` or ``mailto:`` addresses are not findings. The walk is bounded (:data:`LIMIT` objects):
a file larger than that is reported as too complex to check rather than passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pikepdf

LIMIT = 200_000
# Action type → finding kind.
_ACTIONS = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/SubmitForm": "submit_form",
    "/ImportData": "import_data",
    "/GoToR": "remote_goto",
    "/GoToE": "embedded_goto",
    "/Rendition": "rich_media",
    "/RichMediaExecute": "rich_media",
    "/Movie": "rich_media",
    "/Sound": "rich_media",
}
_MEDIA_ANNOTATIONS = {name: "rich_media" for name in ("/RichMedia", "/Screen", "/Movie", "/Sound")}
_SAFE_URI_SCHEMES = ("https:", "mailto:")

DESCRIPTIONS_VI = {
    "javascript": "mã JavaScript",
    "launch": "lệnh chạy chương trình (Launch)",
    "submit_form": "gửi dữ liệu biểu mẫu ra ngoài (SubmitForm)",
    "import_data": "nhập dữ liệu từ tệp khác (ImportData)",
    "remote_goto": "liên kết mở tệp khác (GoToR)",
    "embedded_goto": "liên kết mở tệp đính kèm (GoToE)",
    "uri_insecure": "liên kết không dùng https",
    "embedded_file": "tệp đính kèm",
    "rich_media": "nội dung đa phương tiện",
    "xfa": "biểu mẫu XFA",
    "too_complex": "cấu trúc quá lớn để kiểm tra hết",
}


@dataclass(frozen=True)
class Finding:
    """One thing found: its kind (a key of :data:`DESCRIPTIONS_VI`) and where, e.g. "page 2 annotation 1"."""

    kind: str
    where: str

    def describe_vi(self) -> str:
        return f"{DESCRIPTIONS_VI[self.kind]} ({self.where})"


class _Walk:
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.visited = 0

    def found(self, kind: str, where: str) -> None:
        if Finding(kind, where) not in self.findings:
            self.findings.append(Finding(kind, where))

    def budget(self) -> bool:
        self.visited += 1
        return self.visited <= LIMIT

    def actions(self, value: object, where: str) -> None:
        """An action, an array of actions, or an /AA dictionary of trigger → action."""
        pending = [value]
        while pending and self.budget():
            item = pending.pop()
            if isinstance(item, pikepdf.Array):
                pending.extend(item)
                continue
            if not isinstance(item, pikepdf.Dictionary):
                continue
            kind = item.get("/S")
            if kind is None:  # an /AA dictionary: trigger → action
                pending.extend(item.get(key) for key in list(item.keys()))
                continue
            self.action(item, str(kind), where)
            if "/Next" in item:
                pending.append(item.get("/Next"))

    def action(self, action: pikepdf.Dictionary, kind: str, where: str) -> None:
        if kind in _ACTIONS:
            self.found(_ACTIONS[kind], where)
        elif kind == "/URI":
            uri = str(action.get("/URI", "")).strip().lower()
            if not uri.startswith(_SAFE_URI_SCHEMES):
                self.found("uri_insecure", where)

    def annotation(self, annot: object, where: str) -> None:
        if not isinstance(annot, pikepdf.Dictionary):
            return
        subtype = str(annot.get("/Subtype", ""))
        if subtype == "/FileAttachment":
            self.found("embedded_file", where)
        if subtype in _MEDIA_ANNOTATIONS:
            self.found(_MEDIA_ANNOTATIONS[subtype], where)
        for key in ("/A", "/AA"):
            if key in annot:
                self.actions(annot.get(key), where)

    def fields(self, roots: object) -> None:
        pending: list[tuple[object, str | None]] = [
            (f, None) for f in (roots if isinstance(roots, pikepdf.Array) else [])
        ]
        while pending and self.budget():
            item, parent = pending.pop()
            if not isinstance(item, pikepdf.Dictionary):
                continue
            name = str(item.get("/T", parent or "?"))
            for key in ("/A", "/AA"):
                if key in item:
                    self.actions(item.get(key), f"trường {name}")
            kids = item.get("/Kids")
            if isinstance(kids, pikepdf.Array):
                pending.extend((kid, name) for kid in kids)


def scan(doc: pikepdf.Pdf) -> list[Finding]:
    """Everything in ``doc`` that runs something or reaches elsewhere (empty: nothing found)."""
    walk = _Walk()
    root = doc.Root
    if "/OpenAction" in root and not isinstance(root.get("/OpenAction"), pikepdf.Array):
        walk.actions(root.get("/OpenAction"), "khi mở tệp")
    if "/AA" in root:
        walk.actions(root.get("/AA"), "tài liệu")
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        if "/JavaScript" in names:
            walk.found("javascript", "tài liệu")
        if "/EmbeddedFiles" in names:
            walk.found("embedded_file", "tài liệu")
    acroform = root.get("/AcroForm")
    if isinstance(acroform, pikepdf.Dictionary):
        if "/XFA" in acroform:
            walk.found("xfa", "biểu mẫu")
        walk.fields(acroform.get("/Fields"))
    for number, page in enumerate(doc.pages, start=1):
        if not walk.budget():
            break
        if "/AA" in page.obj:
            walk.actions(page.obj.get("/AA"), f"trang {number}")
        annots = page.obj.get("/Annots")
        for index, annot in enumerate(annots if isinstance(annots, pikepdf.Array) else [], start=1):
            if not walk.budget():
                break
            walk.annotation(annot, f"trang {number}, chú thích {index}")
    if walk.visited > LIMIT:
        walk.found("too_complex", "tài liệu")
    return walk.findings
