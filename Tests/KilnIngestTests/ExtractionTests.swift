import Foundation
import KilnBasics
import KilnIngest
import KilnModel
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

    @Test(arguments: ["report.pdf", "messy.html", "handbook.docx", "guide.md", "utf16.txt", "latin1.txt"])
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
        // Found by `make fuzz`: a deflate stream that never finishes (ZIPFoundation's reader looped at its end).
        ("fuzz-unfinished-deflate.docx", "the DOCX file"),
        ("make_fixtures.py", "unsupported file type"),
    ])
    func brokenFilesAreClearErrors(_ name: String, _ expected: String) {
        #expect {
            _ = try DocumentExtractor.extract(path: Self.fixtures.appendingPathComponent(name).path)
        } throws: { error in
            (error as? ExtractionError)?.message.hasPrefix(expected) ?? false
        }
    }

    /// `encoding:` on the ingest stage: each setting reads the same bytes its own way; `auto` falls back to
    /// Windows-1252 with a warning, an explicit `utf-8` refuses what is not UTF-8 and names the knob.
    @Test(arguments: [
        (TextEncoding.auto, [0x43, 0x61, 0x66, 0xE9, 0x20, 0x93, 0x6F, 0x6B, 0x94], "Café “ok”", true),
        (.windows1252, [0x43, 0x61, 0x66, 0xE9, 0x20, 0x93, 0x6F, 0x6B, 0x94], "Café “ok”", false),
        (.latin1, [0x43, 0x61, 0x66, 0xE9], "Café", false),
        (.utf16, [0x43, 0x00, 0xE9, 0x00], "Cé", false),
        (.utf16, [0xFE, 0xFF, 0x00, 0x43, 0x00, 0xE9], "Cé", false),
        (.utf8, [0xEF, 0xBB, 0xBF, 0x43, 0xC3, 0xA9], "Cé", false),
        (.auto, [0x43, 0xC3, 0xA9], "Cé", false),
    ])
    func textEncodings(_ encoding: TextEncoding, _ bytes: [UInt8], _ text: String, _ warns: Bool) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("encoding-\(UUID().uuidString).txt")
        try Data(bytes).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let document = try DocumentExtractor.extract(path: path.path, options: ExtractionOptions(encoding: encoding))
        #expect(document.sections.map(\.text) == [text])
        #expect(document.warnings.contains { $0.contains("decoded as Windows-1252") } == warns)
    }

    @Test func explicitUTF8RefusesOtherBytesAndNamesTheKnob() throws {
        let path = Self.fixtures.appendingPathComponent("latin1.txt").path
        #expect {
            _ = try DocumentExtractor.extract(path: path, options: ExtractionOptions(encoding: .utf8))
        } throws: { error in
            (error as? ExtractionError)?.message.hasPrefix(
                "the file is not UTF-8 (byte 0xE9 at offset 3); set `encoding: windows-1252`") ?? false
        }
    }

    @Test func limitsAreEnforcedWithTheKnobToTurn() {
        let path = Self.fixtures.appendingPathComponent("report.pdf").path
        #expect {
            _ = try DocumentExtractor.extract(path: path, options: ExtractionOptions(maxPages: 2))
        } throws: { error in
            (error as? ExtractionError)?.message
                == "the PDF has 3 pages, more than max_pages (2); raise max_pages to read it"
        }
        #expect {
            _ = try DocumentExtractor.extract(path: path, options: ExtractionOptions(maxBytes: 1000))
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
