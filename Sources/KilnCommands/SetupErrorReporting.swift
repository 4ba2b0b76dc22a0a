import ArgumentParser
import KilnBasics

/// Runs a command's library call; an `ActionableError` (what is wrong and what to do) is printed as
/// `error: <what> (<hint>)` and ends the command with exit code 2, never as a stack trace.
func reportingSetupErrors<Result>(_ body: () async throws -> Result) async throws -> Result {
    do {
        return try await body()
    } catch let error as ActionableError {
        StandardError.write("error: \(error)")
        throw ExitCode(KilnExitCode.invalidInput)
    }
}
