import CLibXML2
import Foundation
import ZIPFoundation

/// Word documents: `word/document.xml` from the zip, paragraphs and headings (paragraph styles Title, Heading1…9)
/// through libxml2, namespace-checked; text runs split mid-word join as Word shows them.
enum DOCXExtractor {
    static let wordNamespace = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

    /// The most `word/document.xml` may unzip to, and the most it may grow over its compressed size: a deflate
    /// bomb stops at the cap, not at the machine's memory.
    static let maximumXMLBytes = 256 << 20
    static let maximumRatio = 200

    /// `size` is the DOCX file's size in bytes.
    static func extract(path: String, size: Int) throws(ExtractionError) -> ExtractedDocument {
        let xml = try documentXML(path: path, size: size)
        // Word never writes a DTD: one in a DOCX can only declare entities (an "entity bomb" or an external
        // reference), so it is refused before parsing.
        if xml.range(of: Data("<!DOCTYPE".utf8)) != nil || xml.range(of: Data("<!ENTITY".utf8)) != nil {
            throw ExtractionError(
                "the DOCX file's word/document.xml declares a DTD or entities, which Word never writes")
        }
        // libxml2's default limits (no XML_PARSE_HUGE: nesting depth, text sizes), no network, and its messages kept
        // off standard error: the reason goes into the document's failure instead.
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        LibXML2Error.keepOffStandardError()
        xmlResetLastError()
        let document = xml.withUnsafeBytes { buffer -> xmlDocPtr? in
            guard let base = buffer.baseAddress else { return nil }
            return xmlReadMemory(
                base.assumingMemoryBound(to: CChar.self), Int32(buffer.count), "document.xml", nil, options)
        }
        guard let document, let root = xmlDocGetRootElement(document) else {
            throw ExtractionError(
                "the DOCX file's word/document.xml is not well-formed XML"
                    + (LibXML2Error.last.map { " (\($0))" } ?? ""))
        }
        defer { xmlFreeDoc(document) }
        var builder = SectionBuilder()
        walk(root, into: &builder)
        return ExtractedDocument(format: .docx, sections: builder.finish())
    }

    private static func documentXML(path: String, size: Int) throws(ExtractionError) -> Data {
        // Read once (no larger than max_file_mb): the zip's directory and the member come from these bytes.
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ExtractionError("cannot read the file")
        }
        let archive: Archive
        do {
            archive = try Archive(data: bytes, accessMode: .read)
        } catch {
            throw ExtractionError("not a DOCX file: the zip container cannot be read (truncated or not a zip)")
        }
        guard let entry = archive["word/document.xml"] else {
            throw ExtractionError("not a Word document: the zip has no word/document.xml")
        }
        let limit = min(maximumXMLBytes, max(16 << 20, maximumRatio * max(size, Int(entry.compressedSize))))
        // The member is inflated from the file's bytes, never past its compressed size: ZIPFoundation's own reader
        // loops for ever at the end of a deflate stream that does not finish.
        let damaged = ExtractionError("the DOCX file is damaged: word/document.xml cannot be unzipped")
        guard let start = dataOffset(of: entry.path, in: bytes), entry.compressedSize <= UInt64(bytes.count - start)
        else { throw damaged }
        let end = start + Int(entry.compressedSize)
        guard entry.isCompressed else {
            guard end - start <= limit else { throw tooLarge(limit) }
            return bytes.subdata(in: start..<end)
        }
        var data = Data()
        do {
            _ = try Data.decompress(
                size: Int64(entry.compressedSize), bufferSize: 64 << 10, skipCRC32: true,
                provider: { position, chunkSize in
                    let from = start + Int(position)
                    guard from < end else { throw DecompressionLimit() }
                    return bytes.subdata(in: from..<min(end, from + chunkSize))
                },
                consumer: { chunk in
                    guard data.count + chunk.count <= limit else { throw DecompressionLimit() }
                    data.append(chunk)
                })
        } catch {
            throw data.count + 64 << 10 > limit ? tooLarge(limit) : damaged
        }
        return data
    }

    static func tooLarge(_ limit: Int) -> ExtractionError {
        ExtractionError(
            "the DOCX file's word/document.xml unzips to more than \(limit >> 20) MB (a zip bomb?): not read")
    }

    /// Where the data of member `name` starts: after its local header (signature, 26 bytes of fields, the name,
    /// the extra field).
    static func dataOffset(of name: String, in bytes: Data) -> Int? {
        let signature = Data([0x50, 0x4B, 0x03, 0x04])
        let wanted = Data(name.utf8)
        var searchFrom = bytes.startIndex
        while let found = bytes.range(of: signature, in: searchFrom..<bytes.endIndex) {
            let header = found.lowerBound
            searchFrom = found.upperBound
            guard header + 30 <= bytes.endIndex else { return nil }
            let nameLength = Int(bytes[header + 26]) | Int(bytes[header + 27]) << 8
            let extraLength = Int(bytes[header + 28]) | Int(bytes[header + 29]) << 8
            let dataStart = header + 30 + nameLength + extraLength
            guard dataStart <= bytes.endIndex else { continue }
            if bytes[(header + 30)..<(header + 30 + nameLength)] == wanted { return dataStart - bytes.startIndex }
        }
        return nil
    }

    private struct DecompressionLimit: Error {}

    private static func isWord(_ node: xmlNodePtr, _ name: String) -> Bool {
        guard node.pointee.type == XML_ELEMENT_NODE, String(cString: node.pointee.name) == name,
            let namespace = node.pointee.ns?.pointee.href
        else { return false }
        return String(cString: namespace) == wordNamespace
    }

    private static func walk(_ node: xmlNodePtr, into builder: inout SectionBuilder) {
        var child: xmlNodePtr? = node
        while let current = child {
            defer { child = current.pointee.next }
            if isWord(current, "p") {
                let text = paragraphText(current)
                if let level = headingLevel(current) {
                    builder.heading(text, level: level)
                } else {
                    builder.paragraphBreak()
                    builder.verbatim(text)
                    builder.paragraphBreak()
                }
            } else if let children = current.pointee.children {
                walk(children, into: &builder)
            }
        }
    }

    /// Text of one paragraph: w:t runs, w:tab as a tab, w:br / w:cr as a line break.
    private static func paragraphText(_ paragraph: xmlNodePtr) -> String {
        var text = ""
        func visit(_ node: xmlNodePtr) {
            var child: xmlNodePtr? = node
            while let current = child {
                defer { child = current.pointee.next }
                if isWord(current, "t") {
                    if let content = xmlNodeGetContent(current) {
                        text += String(cString: content)
                        kiln_xml_free(content)
                    }
                } else if isWord(current, "tab") {
                    text += "\t"
                } else if isWord(current, "br") || isWord(current, "cr") {
                    text += "\n"
                } else if !isWord(current, "pPr"), !isWord(current, "instrText"),
                    let children = current.pointee.children
                {
                    visit(children)
                }
            }
        }
        if let children = paragraph.pointee.children { visit(children) }
        return text
    }

    /// 0 for Title (above every heading), 1 for Heading1, 2 for Heading2 …, nil for body paragraphs.
    private static func headingLevel(_ paragraph: xmlNodePtr) -> Int? {
        var child = paragraph.pointee.children
        while let current = child {
            defer { child = current.pointee.next }
            guard isWord(current, "pPr") else { continue }
            var property = current.pointee.children
            while let style = property {
                defer { property = style.pointee.next }
                guard isWord(style, "pStyle"), let value = xmlGetNsProp(style, "val", wordNamespace) else { continue }
                defer { kiln_xml_free(value) }
                let name = String(cString: value).lowercased()
                if name == "title" { return 0 }
                if name.hasPrefix("heading"), let level = Int(name.dropFirst("heading".count)) {
                    return min(max(level, 1), 9)
                }
            }
        }
        return nil
    }
}
