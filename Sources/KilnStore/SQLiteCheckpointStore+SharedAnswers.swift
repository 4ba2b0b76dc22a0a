package import Foundation
import KilnBasics

/// Shared answers in the SQLite file: runs in several processes on one machine see one another through it.
extension SQLiteCheckpointStore: SharedAnswers {
    static let sharedTables = """
        CREATE TABLE IF NOT EXISTS live_runs(holder TEXT PRIMARY KEY, beat REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS shared_answers(
            request_hash TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL, status INTEGER, body BLOB,
            answered_at REAL);
        """

    package func heartbeat(holder: String, now: Double) async throws -> Int {
        try await onQueue { database in
            try database.query(
                "INSERT OR REPLACE INTO live_runs(holder, beat) VALUES (?, ?)", [.text(holder), .real(now)])
            let others = try database.query(
                "SELECT COUNT(*) FROM live_runs WHERE holder != ? AND beat > ?",
                [.text(holder), .real(now - Self.liveSeconds)])
            return Int(others.first?.first?.integer ?? 0)
        }
    }

    package func claim(_ requestHash: String, holder: String, until: Double, now: Double) async throws -> SharedClaim {
        try await onQueue { database in
            try database.transaction {
                let row = try database.query(
                    """
                    SELECT a.holder, a.until, a.status, a.body, r.beat FROM shared_answers a
                    LEFT JOIN live_runs r ON r.holder = a.holder WHERE a.request_hash = ?
                    """, [.text(requestHash)]
                ).first
                if let row, let status = row[2].integer, case .blob(let body) = row[3] {
                    return .answered(status: Int(status), body: Data(body))
                }
                if let row, let other = row[0].text, other != holder, (row[1].real ?? 0) > now,
                    (row[4].real ?? 0) > now - Self.liveSeconds
                {
                    return .busy
                }
                try database.query(
                    """
                    INSERT OR REPLACE INTO shared_answers(request_hash, holder, until, status, body, answered_at)
                    VALUES (?, ?, ?, NULL, NULL, NULL)
                    """, [.text(requestHash), .text(holder), .real(until)])
                return .mine
            }
        }
    }

    package func publish(_ requestHash: String, status: Int, body: Data, holder: String, now: Double) async throws {
        _ = try await onQueue { database in
            try database.query(
                "UPDATE shared_answers SET status = ?, body = ?, answered_at = ? WHERE request_hash = ? AND holder = ?",
                [.integer(Int64(status)), .blob([UInt8](body)), .real(now), .text(requestHash), .text(holder)])
        }
    }

    package func release(_ requestHash: String, holder: String) async throws {
        _ = try await onQueue { database in
            try database.query(
                "DELETE FROM shared_answers WHERE request_hash = ? AND holder = ? AND status IS NULL",
                [.text(requestHash), .text(holder)])
        }
    }

    package func leave(holder: String, now: Double) async throws {
        try await onQueue { database in
            try database.transaction {
                try database.query("DELETE FROM live_runs WHERE holder = ?", [.text(holder)])
                try database.query(
                    "DELETE FROM shared_answers WHERE (holder = ? AND status IS NULL) OR answered_at < ?",
                    [.text(holder), .real(now - Self.keepSeconds)])
            }
        }
    }
}
