/// A position in a source file, 1-based, as editors and compilers print it.
package struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file as the user named it (kept relative when they gave a relative path).
    package var file: String
    /// Line number starting from 1; 0 when the problem concerns the whole file.
    package var line: Int
    /// Column number starting from 1, counted in Unicode scalars; 0 when unknown.
    package var column: Int

    package init(file: String, line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `FILE:LINE:COL`, or just `FILE` when the problem has no position.
    package var description: String {
        line > 0 ? "\(file):\(line):\(column)" : file
    }
}
