#!/usr/bin/env python3
"""Writes the committed document fixtures of KilnIngestTests (standard library only; the encrypted PDF also
needs `qpdf`). Rerun only to change them: the tests compare extraction with the *.expected files."""
import io
import subprocess
import zipfile


def pdf(pages):
    """A minimal PDF: one page per list of lines, Helvetica with WinAnsiEncoding (covers é, ü, ß, ñ, €, —).
    A page given as None is a "scan": an 8×8 grey image and no text layer."""
    objects = []

    def add(body):
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    pixels = bytes(range(0, 256, 4))
    image = add(b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 "
                b"/Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream")
    pages_id = len(objects) + 1 + 2 * len(pages)
    kids = []
    for lines in pages:
        stream = io.BytesIO()
        if lines is None:
            stream.write(b"q 400 0 0 400 100 200 cm /Im1 Do Q")
        else:
            stream.write(b"BT /F1 12 Tf 72 720 Td 16 TL\n")
            for line in lines:
                encoded = line.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
                stream.write(b"(" + encoded + b") Tj T*\n")
            stream.write(b"ET")
        data = stream.getvalue()
        content = add(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                        b"/Resources << /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R >> >> >>" % (pages_id, content, font, image)))
    assert add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))) == pages_id
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref))
    return out.getvalue()


REPORT = [
    ["Annual Kiln Report", "Café sales grew in Zürich and Málaga.", "The Straße team met its targets."],
    ["Page two covers glaze chemistry.", "Cobalt oxide gives a deep blue; iron gives celadon green."],
    ["Page three: firing schedules — cone 6 and cone 10.", "Costs rose 5 € per firing."],
]


def docx():
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    body = (
        '<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Studio Handbook</w:t></w:r></w:p>'
        '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Safety</w:t></w:r></w:p>'
        '<w:p><w:r><w:t>Always wear a respi</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>rator</w:t></w:r>'
        '<w:r><w:t xml:space="preserve"> when mixing glazes.</w:t></w:r></w:p>'
        '<w:p><w:r><w:t>Kiln room</w:t></w:r><w:r><w:tab/><w:t>ventilated</w:t></w:r><w:r><w:br/><w:t>Door closed.</w:t></w:r></w:p>'
        '<w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Señales de peligro</w:t></w:r></w:p>'
        '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Hot surface</w:t></w:r></w:p></w:tc>'
        '<w:tc><w:p><w:r><w:t>Do not touch</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'
    )
    document = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {w}><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        # Fixed timestamps: the same script writes the same bytes.
        stamp = (2026, 1, 1, 0, 0, 0)
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", stamp), '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                         '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        archive.writestr(zipfile.ZipInfo("word/document.xml", stamp), document, zipfile.ZIP_DEFLATED)
    return out.getvalue()


HTML = """<!DOCTYPE html><html><head><title>Glaze notes</title><style>body { color: red }</style>
<script>var tracking = "do not index me";</script></head>
<body><nav><a href="/">Home</a> | <a href="/shop">Shop</a></nav>
<h1>Glaze   notes</h1>
<p>Shino glazes   crawl when applied
too thick.<p>Unclosed paragraph with <b>bold <i>nested</b> text</i>
<div hidden>Secret hidden text</div>
<h2>Tenmoku</h2><ul><li>Iron rich<li>Breaks brown on edges</ul>
<table><tr><td>Cone<td>10</table>
<pre>line one
   indented line</pre>
<footer>&copy; 2026 Pottery &amp; Co</footer>
"""

MARKDOWN = """# Throwing guide

Center the clay first.

## Trimming

Trim when leather hard.

```python
# not a heading
print("x")
```

## Drying ##

Dry slowly under plastic.
"""

def png():
    """A 16×16 grey gradient PNG (a stand-in for a photographed page)."""
    import struct
    import zlib
    raw = b"".join(b"\x00" + bytes((x * 16) % 256 for x in range(16)) for _ in range(16))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    report = pdf(REPORT)
    open("report.pdf", "wb").write(report)
    open("truncated.pdf", "wb").write(report[: len(report) * 6 // 10])
    subprocess.run(["qpdf", "--encrypt", "user-secret", "owner-secret", "256", "--", "report.pdf", "encrypted.pdf"], check=True)
    open("scanned.pdf", "wb").write(pdf([["Typed cover page of the kiln log."], None]))
    open("page.png", "wb").write(png())
    open("handbook.docx", "wb").write(docx())
    open("broken.docx", "wb").write(b"PK\x03\x04 this zip was cut off")
    open("messy.html", "w", encoding="utf-8").write(HTML)
    open("guide.md", "w", encoding="utf-8").write(MARKDOWN)
    open("latin1.txt", "wb").write("Caf\u00e9 au lait".encode("latin-1"))
    open("utf16.txt", "wb").write("\ufeffHello \u00fcber world".encode("utf-16-le"))
