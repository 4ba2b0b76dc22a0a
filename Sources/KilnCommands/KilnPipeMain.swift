import ArgumentParser
import Foundation
import KilnBasics

/// Runs the root command and turns every outcome into one of kiln-pipe's documented exit codes.
package enum KilnPipeMain {
    package static func main(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        // A pipe whose reader has gone (an MCP server that crashed, `| head`) is an error to handle where it is
        // written, never a signal that kills the run without a word.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try KilnPipeCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(KilnExitCode.success)
        } catch {
            let (code, message) = outcome(of: error)
            if code == KilnExitCode.success {
                if !message.isEmpty { print(message) }
            } else if !message.isEmpty {
                StandardError.write(message)
            }
            exit(code)
        }
    }

    /// The exit code and message of an error that ended a command. The one error path: an exit code a command
    /// chose stands; argument-parser's usage errors are 2 (it says 64); every other error — ours, Foundation's,
    /// SQLite's — is a setup or I/O problem, 2 with one readable line, never 1 (which means "a threshold failed").
    static func outcome(of error: any Error) -> (code: Int32, message: String) {
        if let exit = error as? ExitCode { return (exit.rawValue, "") }
        if let actionable = error as? ActionableError { return (KilnExitCode.invalidInput, "error: \(actionable)") }
        let code = KilnPipeCommand.exitCode(for: error)
        if code == .success { return (KilnExitCode.success, KilnPipeCommand.fullMessage(for: error)) }
        if code == .validationFailure { return (KilnExitCode.invalidInput, KilnPipeCommand.fullMessage(for: error)) }
        return (KilnExitCode.invalidInput, "error: \(SystemErrorText.line(of: error))")
    }
}

/// Writes lines to standard error, where logs and usage errors go (results go to standard output).
package enum StandardError {
    package static func write(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
