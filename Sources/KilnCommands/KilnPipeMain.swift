import ArgumentParser
import Foundation

/// Runs the root command and turns every outcome into one of kiln-pipe's documented exit codes.
package enum KilnPipeMain {
    package static func main(arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        do {
            var command = try KilnPipeCommand.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(KilnExitCode.success)
        } catch {
            let code = KilnPipeCommand.exitCode(for: error)
            let message = KilnPipeCommand.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(KilnExitCode.success)
            }
            if !message.isEmpty { StandardError.write(message) }
            // argument-parser reports usage errors as EX_USAGE (64); kiln-pipe documents 2 for them.
            exit(code == .validationFailure ? KilnExitCode.invalidInput : code.rawValue)
        }
    }
}

/// Writes lines to standard error, where logs and usage errors go (results go to standard output).
package enum StandardError {
    package static func write(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}
