import Foundation
package import KilnProviders
package import KilnStore
import Synchronization

/// A run's part in the runs sharing its store: it beats four times a second, and while another run is live it
/// claims each request before sending it, publishes each answer, and waits for the answer of a request another
/// run is making instead of paying for it again. Alone on its store, a run makes no claim (no cost) after its first
/// half second — two beats, claimed too, so that two runs started together see each other before either pays
/// twice (claiming for 2 s made a 4 s run with 5% of 429s 30% slower). Times are wall-clock seconds: several
/// processes compare them.
package final class RunCooperation: Sendable {
    private let answers: any SharedAnswers
    private let holder: String
    private let others = Atomic<Int>(0)
    private let started = Date().timeIntervalSince1970
    static let beatSeconds = 0.25
    static let startupSeconds = 0.5

    package init(answers: any SharedAnswers) {
        self.answers = answers
        holder = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    }

    private static var now: Double { Date().timeIntervalSince1970 }

    /// Whether another run shares the store now (or may: the run has just started).
    package var isShared: Bool {
        others.load(ordering: .relaxed) > 0 || Self.now - started < Self.startupSeconds
    }

    /// Registers the run (and learns of the others); call before the first request, then every beat.
    package func beat() async {
        if let count = try? await answers.heartbeat(holder: holder, now: Self.now) {
            others.store(count, ordering: .relaxed)
        }
    }

    /// Beats until the task is cancelled.
    package func beatUntilCancelled() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(Self.beatSeconds))
            await beat()
        }
    }

    /// The answer another run has for `requestHash`, waiting while a live run makes the call; nil when this run
    /// should call (it then holds the claim until `publish` or `release`), or when `stopped` says to give up.
    package func answerOrClaim(
        _ requestHash: String, holdFor seconds: Double, stopped: () -> Bool
    ) async -> (claimed: Bool, answer: HTTPResponse?) {
        while !stopped() {
            let now = Self.now
            guard let claim = try? await answers.claim(requestHash, holder: holder, until: now + seconds, now: now)
            else { return (false, nil) }  // the store cannot tell: call, as alone
            switch claim {
            case .mine: return (true, nil)
            case .answered(let status, let body): return (false, HTTPResponse(status: status, headers: [:], body: body))
            case .busy: try? await Task.sleep(for: .milliseconds(100))
            }
        }
        return (false, nil)
    }

    /// Hands the answer of a claimed request to the runs waiting on it, or gives the claim back.
    package func settle(_ requestHash: String, with response: Result<HTTPResponse, ProviderError>?) async {
        if case .success(let answer) = response, (200..<300).contains(answer.status) {
            try? await answers.publish(
                requestHash, status: answer.status, body: answer.body, holder: holder, now: Self.now)
        } else {
            try? await answers.release(requestHash, holder: holder)
        }
    }

    /// The run ended: its unanswered claims go.
    package func leave() async {
        try? await answers.leave(holder: holder, now: Self.now)
    }
}
