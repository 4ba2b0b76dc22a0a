/// The documented exit codes of kiln-pipe; CI gates on them, so each has one meaning.
package enum KilnExitCode {
    /// Everything ran (or validated) and every threshold held.
    package static let success: Int32 = 0
    /// The run finished but an eval threshold failed.
    package static let thresholdFailed: Int32 = 1
    /// Bad usage, an invalid pipeline file or input, or a setup problem: nothing more is paid for; what finished is
    /// saved.
    package static let invalidInput: Int32 = 2
    /// The run finished with failed items.
    package static let failedItems: Int32 = 3
    /// The cost budget was reached; rerun with a higher budget to continue.
    package static let budgetReached: Int32 = 4
    /// Interrupted by Ctrl-C; rerun to resume.
    package static let interrupted: Int32 = 130
}
