import Foundation
import KilnBasics
import KilnIngest
import KilnLoading
import KilnModel
import ZIPFoundation

/// A parser under fuzz: its seed corpus and how one input is fed to it (in process; a crash or hang is caught by
/// the parent process).
struct FuzzTarget: Sendable {
    let name: String
    /// Inputs as the target reads them (for DOCX: the text of word/document.xml, zipped for each run).
    let seeds: @Sendable (_ repository: URL) -> [[UInt8]]
    let run: @Sendable (_ input: [UInt8], _ scratch: URL) -> Void

    static let all: [FuzzTarget] = [pipeline, jsonl, csv, json, html, docx, docxBytes, text]

    static func files(_ repository: URL, _ folders: [String], _ extensions: Set<String>) -> [[UInt8]] {
        folders.flatMap { folder -> [[UInt8]] in
            let base = repository.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []
            return names.sorted().filter { extensions.contains(URL(fileURLWithPath: $0).pathExtension) }.compactMap {
                FileManager.default.contents(atPath: base.appendingPathComponent($0).path).map { [UInt8]($0) }
            }
        }
    }

    static let pipeline = FuzzTarget(
        name: "pipeline",
        seeds: {
            files(
                $0, ["pipelines", "Tests/KilnLoadingTests/Fixtures/valid", "Tests/KilnLoadingTests/Fixtures/invalid"],
                ["yml"])
        },
        run: { input, scratch in
            _ = PipelineLoader.load(
                data: Data(input), file: "fuzz.yml", baseDirectory: scratch.path, options: LoadOptions())
        })

    /// Reads every row of a data file the way `load` does.
    static func rows(_ format: LoadFormat, _ input: [UInt8], _ scratch: URL) {
        let path = scratch.appendingPathComponent("input.\(format.rawValue)").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(input))
        for encoding in [TextEncoding.auto, .windows1252] {
            guard let rows = try? DataFileRows(path: path, format: format, shownPath: "f", encoding: encoding) else {
                continue
            }
            while rows.next() != nil {}
        }
    }

    static let jsonl = FuzzTarget(
        name: "jsonl",
        seeds: {
            files($0, ["datasets"], ["jsonl"]).map { Array($0.prefix(64 << 10)) } + [
                Array("{\"q\": \"a\", \"n\": [1, 2.5e3, null, true], \"o\": {\"k\": \"\\u00e9\\n\"}}\n".utf8)
            ]
        },
        run: { rows(.jsonl, $0, $1) })

    static let csv = FuzzTarget(
        name: "csv",
        seeds: { _ in
            [
                "question,answer,tags\n\"Where, exactly?\",\"He said \"\"hi\"\"\",a\r\nplain,\"two\nlines\",b\n",
                "a,b\n1,2\n\"unclosed,3\n4,5\n",
            ].map { Array($0.utf8) }
        },
        run: { rows(.csv, $0, $1) })

    static let json = FuzzTarget(
        name: "json",
        seeds: { _ in [Array("[{\"q\": \"a\"}, {\"q\": \"b\", \"x\": [[[]]]}, 3, \"s\"]".utf8)] },
        run: { rows(.json, $0, $1) })

    /// Extracts a document file the way `ingest` does.
    static func extract(_ name: String, _ input: [UInt8], _ scratch: URL) {
        let path = scratch.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(input))
        _ = try? DocumentExtractor.extract(path: path)
    }

    static let html = FuzzTarget(
        name: "html",
        seeds: { files($0, ["datasets/docs", "Tests/KilnIngestTests/Fixtures"], ["html"]) },
        run: { extract("input.html", $0, $1) })

    static let text = FuzzTarget(
        name: "markdown",
        seeds: { files($0, ["datasets/docs", "Tests/KilnIngestTests/Fixtures"], ["md", "txt"]) },
        run: { extract("input.md", $0, $1) })

    /// word/document.xml of the seed DOCX files, mutated as text and zipped again: what reaches libxml2.
    static let docx = FuzzTarget(
        name: "docx-xml",
        seeds: { repository in
            ["datasets/docs/staff-handbook.docx", "Tests/KilnIngestTests/Fixtures/handbook.docx"].compactMap {
                documentXML(repository.appendingPathComponent($0))
            }
        },
        run: { input, scratch in
            let path = scratch.appendingPathComponent("input.docx")
            try? FileManager.default.removeItem(at: path)
            guard let archive = archive(path, .create) else { return }
            let data = Data(input)
            try? archive.addEntry(
                with: "word/document.xml", type: .file, uncompressedSize: Int64(data.count), compressionMethod: .none,
                provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
            _ = try? DocumentExtractor.extract(path: path.path)
        })

    /// The DOCX files' bytes mutated as they are: what reaches the zip reader.
    static let docxBytes = FuzzTarget(
        name: "docx-zip",
        seeds: { files($0, ["datasets/docs", "Tests/KilnIngestTests/Fixtures"], ["docx"]) },
        run: { extract("input.docx", $0, $1) })

    static func archive(_ url: URL, _ mode: Archive.AccessMode) -> Archive? {
        do {
            let archive: Archive = try Archive(url: url, accessMode: mode)
            return archive
        } catch {
            return nil
        }
    }

    static func documentXML(_ url: URL) -> [UInt8]? {
        guard let archive = archive(url, .read), let entry = archive["word/document.xml"] else {
            return nil
        }
        var data = Data()
        _ = try? archive.extract(entry) { data.append($0) }
        return [UInt8](data)
    }
}
