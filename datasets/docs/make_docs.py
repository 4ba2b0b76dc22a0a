#!/usr/bin/env python3
"""Writes the demo corpus of pipelines/docs.yml: a bookshop's policies in every format ingest reads.
Reuses the minimal PDF and DOCX writers of the extraction fixtures."""
import io
import pathlib
import sys
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "Tests/KilnIngestTests/Fixtures"))
from make_fixtures import pdf  # noqa: E402

POLICIES = [
    ["Riverside Books: store policies", "Orders ship within two business days from our warehouse.",
     "Standard shipping costs 4.90 € and is free above 40 €."],
    ["Returns", "Books can be returned within 30 days in unread condition.",
     "Refunds go back to the original payment method within 5 days."],
    ["Special orders", "We order any book in print; special orders arrive in 7 to 10 days.",
     "Special orders cannot be returned unless damaged."],
]

HANDBOOK = [("Title", "Staff handbook"), ("Heading1", "Opening the shop"),
            (None, "Unlock the till, count the float and switch on the card reader."),
            ("Heading1", "Gift wrapping"), (None, "Gift wrapping is free; use the blue paper for children's books."),
            ("Heading2", "Señales de cortesía"), (None, "Greet every customer within a minute of arrival.")]


def docx(paragraphs):
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = ""
    for style, text in paragraphs:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        body += f"<w:p>{props}<w:r><w:t>{text}</w:t></w:r></w:p>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document {w}><w:body>{body}</w:body></w:document>')
    return out.getvalue()


if __name__ == "__main__":
    (HERE / "store-policies.pdf").write_bytes(pdf(POLICIES))
    (HERE / "staff-handbook.docx").write_bytes(docx(HANDBOOK))
