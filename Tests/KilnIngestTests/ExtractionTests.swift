import Foundation
import KilnIngest
import Testing

/// Every fixture format extracts to the committed text (sections with their page and heading path); broken
/// files give a per-document error that says what is wrong. UPDATE_SNAPSHOTS=1 rewrites the .expected files.
@Suite struct Extraction {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A readable rendering of an extraction: one block per section.
    static func render(_ document: ExtractedDocument) -> String {
        var lines = ["format: \(document.format.rawValue)"]
        if let pages = document.pageCount { lines.append("pages: \(pages)") }
        for warning in document.warnings { lines.append("warning: \(warning)") }
        for section in document.sections {
            var header = "---"
            if let page = section.page { header += " page \(page)" }
            if !section.headings.isEmpty { header += " | " + section.headings.joined(separator: " > ") }
            lines.append(header)
            lines.append(section.text)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test(arguments: ["report.pdf", "messy.html", "handbook.docx", "guide.md", "utf16.txt"])
    func extractsTheExpectedText(_ name: String) throws {
        let document = try DocumentExtractor.extract(path: Self.fixtures.appendingPathComponent(name).path)
        let rendered = Self.render(document)
        let expectedURL = Self.fixtures.appendingPathComponent(name + ".expected")
        if ProcessInfo.processInfo.environment["UPDATE_SNAPSHOTS"] == "1" {
            try rendered.write(to: expectedURL, atomically: true, encoding: .utf8)
        }
        #expect(rendered == (try String(contentsOf: expectedURL, encoding: .utf8)))
    }

    @Test(arguments: [
        ("encrypted.pdf", "the PDF is encrypted and needs a password"),
        ("truncated.pdf", "the PDF is truncated (no %%EOF marker"),
        ("broken.docx", "not a DOCX file: the zip container cannot be read"),
        ("latin1.txt", "the file is not UTF-8 (byte 0xE9 at offset 3); convert it first"),
        ("make_fixtures.py", "unsupported file type"),
    ])
    func brokenFilesAreClearErrors(_ name: String, _ expected: String) {
        #expect {
            _ = try DocumentExtractor.extract(path: Self.fixtures.appendingPathComponent(name).path)
        } throws: { error in
            (error as? ExtractionError)?.message.hasPrefix(expected) ?? false
        }
    }

    @Test func limitsAreEnforcedWithTheKnobToTurn() {
        let path = Self.fixtures.appendingPathComponent("report.pdf").path
        #expect {
            _ = try DocumentExtractor.extract(path: path, limits: ExtractionLimits(maxPages: 2))
        } throws: { error in
            (error as? ExtractionError)?.message
                == "the PDF has 3 pages, more than max_pages (2); raise max_pages to read it"
        }
        #expect {
            _ = try DocumentExtractor.extract(path: path, limits: ExtractionLimits(maxBytes: 1000))
        } throws: { error in
            (error as? ExtractionError)?.message.contains("raise max_file_mb") ?? false
        }
    }

    @Test func extractionMatchesPdftotextWhereInstalled() throws {
        let tool = ["/usr/bin/pdftotext", "/usr/local/bin/pdftotext"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let tool else { return }
        let path = Self.fixtures.appendingPathComponent("report.pdf").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = [path, "-"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let ours = try DocumentExtractor.extract(path: path).text
        func words(_ text: String) -> [Substring] { text.split(whereSeparator: \.isWhitespace) }
        #expect(words(ours) == words(output))
    }
}
