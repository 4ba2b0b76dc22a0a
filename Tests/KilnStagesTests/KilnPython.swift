import Foundation

/// The full reference kiln-ai (`make test`'s KILN_FULL_PYTHON), run with a scratch HOME and LiteLLM's offline
/// cost map, so nothing reaches the network.
enum KilnPython {
    static var path: String? { ProcessInfo.processInfo.environment["KILN_FULL_PYTHON"] }

    /// Runs `arguments` with the reference Python; its exit status and standard output.
    static func run(_ python: String, _ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        process.environment = ["HOME": home.path, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": "/usr/bin:/bin"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
