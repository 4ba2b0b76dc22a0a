import CLibXML2
import Foundation

/// Visible text of an HTML page through libxml2's HTML parser in recover mode (real pages are rarely valid):
/// headings kept as the section structure; scripts, styles, navigation and hidden elements dropped.
enum HTMLExtractor {
    /// Elements whose content is not part of the page's readable text.
    static let dropped: Set<String> = [
        "script", "style", "nav", "noscript", "template", "head", "svg", "iframe", "object", "canvas", "button",
        "select",
    ]
    /// Elements that end a line or paragraph.
    static let blocks: Set<String> = [
        "p", "div", "section", "article", "main", "header", "footer", "aside", "ul", "ol", "li", "dl", "dt", "dd",
        "table",
        "tr", "td", "th", "blockquote", "figure", "figcaption", "form", "fieldset", "address", "hr", "br", "body",
    ]

    static func extract(_ data: Data) throws(ExtractionError) -> ExtractedDocument {
        let options = Int32(
            HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                | HTML_PARSE_NONET.rawValue | HTML_PARSE_NOBLANKS.rawValue)
        LibXML2Error.keepOffStandardError()
        xmlResetLastError()
        let document = data.withUnsafeBytes { buffer -> htmlDocPtr? in
            guard let base = buffer.baseAddress else { return nil }
            return htmlReadMemory(
                base.assumingMemoryBound(to: CChar.self), Int32(buffer.count), "document.html", nil, options)
        }
        guard let document else { throw ExtractionError("libxml2 cannot parse the file as HTML") }
        defer { xmlFreeDoc(document) }
        var builder = SectionBuilder()
        if let root = xmlDocGetRootElement(document) { walk(root, into: &builder, preformatted: false) }
        // Recover mode repairs what real pages get wrong, quietly; what it had to drop is said.
        var warnings: [String] = []
        if let problem = LibXML2Error.last {
            if problem.lowercased().contains("depth") {
                warnings.append("text nested deeper than the parser's limit was dropped (\(problem))")
            } else if LibXML2Error.lastIsEncoding {
                warnings.append(
                    "the page's bytes do not fit the encoding it declares: text after the first bad byte may be "
                        + "missing (\(problem))")
            }
        }
        return ExtractedDocument(format: .html, sections: builder.finish(), warnings: warnings)
    }

    private static func walk(_ node: xmlNodePtr, into builder: inout SectionBuilder, preformatted: Bool) {
        var child: xmlNodePtr? = node
        // Siblings iteratively, children recursively: depth is bounded by libxml2's own nesting limit.
        while let current = child {
            defer { child = current.pointee.next }
            switch current.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                guard let content = current.pointee.content else { continue }
                let text = String(cString: content)
                if preformatted { builder.verbatim(text) } else { builder.inline(text) }
            case XML_ELEMENT_NODE:
                let name = String(cString: current.pointee.name).lowercased()
                if dropped.contains(name) || hidden(current) { continue }
                if name.count == 2, name.first == "h", let level = Int(String(name.last ?? "x")),
                    (1...6).contains(level)
                {
                    builder.heading(text(of: current), level: level)
                    continue
                }
                let isBlock = blocks.contains(name) || name == "pre"
                if isBlock { builder.paragraphBreak() }
                if let children = current.pointee.children {
                    walk(children, into: &builder, preformatted: preformatted || name == "pre")
                }
                if isBlock { builder.paragraphBreak() }
            default:
                continue
            }
        }
    }

    private static func hidden(_ node: xmlNodePtr) -> Bool {
        if xmlHasProp(node, "hidden") != nil { return true }
        if let value = xmlGetProp(node, "aria-hidden") {
            defer { kiln_xml_free(value) }
            return String(cString: value) == "true"
        }
        return false
    }

    /// The text content of an element (a heading's title).
    private static func text(of node: xmlNodePtr) -> String {
        guard let content = xmlNodeGetContent(node) else { return "" }
        defer { kiln_xml_free(content) }
        return String(cString: content)
    }
}
