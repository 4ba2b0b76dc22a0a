package import Foundation
import KilnBasics
package import KilnStore
import PostgresNIO

/// Shared answers in the database: unsharded runs on several machines that share a store see one another through
/// it (shards never make the same request, so they do not claim).
extension PostgresCheckpointStore: SharedAnswers {
    static let sharedTables = [
        "CREATE TABLE IF NOT EXISTS kiln_pipe_live_runs(holder TEXT PRIMARY KEY, beat DOUBLE PRECISION NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS kiln_pipe_shared_answers(
            request_hash TEXT PRIMARY KEY, holder TEXT NOT NULL, until DOUBLE PRECISION NOT NULL, status BIGINT,
            body TEXT, answered_at DOUBLE PRECISION)
        """,
    ]

    package func heartbeat(holder: String, now: Double) async throws -> Int {
        try await bounded("registering the run") { [client] in
            try await client.query(
                """
                INSERT INTO kiln_pipe_live_runs(holder, beat) VALUES (\(holder), \(now))
                ON CONFLICT (holder) DO UPDATE SET beat = EXCLUDED.beat
                """, logger: Self.quiet)
            let since = now - Self.liveSeconds
            let rows = try await client.query(
                "SELECT COUNT(*) FROM kiln_pipe_live_runs WHERE holder <> \(holder) AND beat > \(since)",
                logger: Self.quiet)
            var count = 0
            for try await value in rows.decode(Int64.self) { count = Int(value) }
            return count
        }
    }

    package func claim(_ requestHash: String, holder: String, until: Double, now: Double) async throws -> SharedClaim {
        try await bounded("claiming a request") { [client] in
            try await client.withTransaction(logger: Self.quiet) { connection in
                // A new claim, unless the row exists: a run inserting the same row at once waits for this one.
                let inserted = try await connection.query(
                    """
                    INSERT INTO kiln_pipe_shared_answers(request_hash, holder, until)
                    VALUES (\(requestHash), \(holder), \(until)) ON CONFLICT (request_hash) DO NOTHING
                    RETURNING request_hash
                    """, logger: Self.quiet)
                for try await _ in inserted.decode(String.self) { return .mine }
                // The row, locked: an answer, a live run's claim, or a claim free to take over.
                let since = now - Self.liveSeconds
                let rows = try await connection.query(
                    """
                    SELECT a.holder, a.until, a.status, a.body, COALESCE(r.beat, 0)
                    FROM kiln_pipe_shared_answers a LEFT JOIN kiln_pipe_live_runs r ON r.holder = a.holder
                    WHERE a.request_hash = \(requestHash) FOR UPDATE OF a
                    """, logger: Self.quiet)
                for try await (other, claimedUntil, status, body, beat) in rows.decode(
                    (String, Double, Int64?, String?, Double).self)
                {
                    if let status, let body { return .answered(status: Int(status), body: Data(body.utf8)) }
                    if other != holder, claimedUntil > now, beat > since { return .busy }
                }
                try await connection.query(
                    """
                    UPDATE kiln_pipe_shared_answers SET holder = \(holder), until = \(until), status = NULL,
                        body = NULL, answered_at = NULL WHERE request_hash = \(requestHash)
                    """, logger: Self.quiet)
                return .mine
            }
        }
    }

    package func publish(_ requestHash: String, status: Int, body: Data, holder: String, now: Double) async throws {
        // Answers are JSON text; one that is not UTF-8 is not shared (a waiting run then calls itself).
        guard let text = String(data: body, encoding: .utf8) else {
            return try await release(requestHash, holder: holder)
        }
        _ = try await bounded("publishing an answer") { [client] in
            try await client.query(
                """
                UPDATE kiln_pipe_shared_answers SET status = \(Int64(status)), body = \(text),
                    answered_at = \(now) WHERE request_hash = \(requestHash) AND holder = \(holder)
                """, logger: Self.quiet)
        }
    }

    package func release(_ requestHash: String, holder: String) async throws {
        _ = try await bounded("releasing a claim") { [client] in
            try await client.query(
                """
                DELETE FROM kiln_pipe_shared_answers
                WHERE request_hash = \(requestHash) AND holder = \(holder) AND status IS NULL
                """, logger: Self.quiet)
        }
    }

    package func leave(holder: String, now: Double) async throws {
        let before = now - Self.keepSeconds
        try await bounded("leaving the store") { [client] in
            try await client.query("DELETE FROM kiln_pipe_live_runs WHERE holder = \(holder)", logger: Self.quiet)
            try await client.query(
                """
                DELETE FROM kiln_pipe_shared_answers
                WHERE (holder = \(holder) AND status IS NULL) OR answered_at < \(before)
                """, logger: Self.quiet)
        }
    }
}
