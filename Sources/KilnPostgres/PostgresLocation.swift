import Foundation
import KilnBasics
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store lives, read from a libpq-style URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full&connect_timeout=S]`.
/// A missing password comes from PGPASSWORD, a missing user from PGUSER, as libpq does. The password never appears
/// in a message: `description` leaves it out.
struct PostgresLocation: CustomStringConvertible {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var sslMode: String
    var connectTimeoutSeconds: Double

    static let sslModes = ["disable", "prefer", "require", "verify-ca", "verify-full"]

    init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "")
        else {
            throw ActionableError(
                "'\(RedactedURL.of(url))' is not a PostgreSQL URL",
                hint: "write it as postgres://USER@HOST:5432/DATABASE (the password in PGPASSWORD)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ActionableError("the PostgreSQL URL names no host", hint: "postgres://USER@HOST:5432/DATABASE")
        }
        self.host = host
        port = components.port ?? 5432
        user =
            components.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? environment["USER"]
            ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding } ?? environment["PGPASSWORD"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        sslMode = query["sslmode"] ?? "prefer"
        guard Self.sslModes.contains(sslMode) else {
            throw ActionableError(
                "sslmode=\(sslMode) is not a PostgreSQL SSL mode",
                hint: "one of \(Self.sslModes.joined(separator: ", "))")
        }
        if let timeout = query["connect_timeout"] {
            guard let seconds = Double(timeout), seconds > 0 else {
                throw ActionableError(
                    "connect_timeout=\(timeout) is not a number of seconds", hint: "connect_timeout=10")
            }
            connectTimeoutSeconds = seconds
        } else {
            connectTimeoutSeconds = 15
        }
    }

    /// The URL without its password.
    var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// `url` with any password replaced, for messages about a URL that did not parse.
    /// The TLS settings `sslmode` asks for (nil: no TLS), and whether TLS is required rather than preferred.
    private var tls: (configuration: TLSConfiguration, required: Bool)? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case "disable":
            return nil
        case "verify-ca", "verify-full":
            return (configuration, true)
        default:
            // libpq's `prefer` and `require` encrypt without checking the certificate.
            configuration.certificateVerification = .none
            return (configuration, sslMode == "require")
        }
    }

    /// The connection pool's settings.
    var configuration: PostgresClient.Configuration {
        let mode: PostgresClient.Configuration.TLS =
            tls.map { $0.required ? .require($0.configuration) : .prefer($0.configuration) } ?? .disable
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: mode)
        configuration.options.connectTimeout = .milliseconds(Int64(connectTimeoutSeconds * 1000))
        configuration.options.maximumConnections = 8
        return configuration
    }

    /// One connection's settings: the store opens one first, because the pool retries a failed connection
    /// forever where a single attempt reports what the server said (no such database, password rejected…).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let mode: PostgresConnection.Configuration.TLS =
            try tls.map {
                let context = try NIOSSLContext(configuration: $0.configuration)
                return $0.required ? .require(context) : .prefer(context)
            } ?? .disable
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: mode)
        configuration.options.connectTimeout = .milliseconds(Int64(connectTimeoutSeconds * 1000))
        return configuration
    }

    /// `error` as a message that says which database, what went wrong, and what to do.
    func error(_ error: any Error, while action: String) -> ActionableError {
        if let error = error as? ActionableError { return error }
        guard let error = error as? PSQLError else {
            return ActionableError("PostgreSQL store \(self): \(action) failed: \(error)", hint: nil)
        }
        if let message = error.serverInfo?[.message] {
            let state = error.serverInfo?[.sqlState]
            let hint: String? =
                switch state {
                case "28P01", "28000": "check the user and PGPASSWORD (or the password in the URL)"
                case "3D000": "create the database first (createdb \(database)), or name an existing one"
                case "42501": "the user needs CREATE and INSERT rights in the database"
                default: nil
                }
            return ActionableError("PostgreSQL store \(self): \(action) failed: \(message)", hint: hint)
        }
        let cause = error.underlying.map { "\($0)" } ?? "\(error.code)"
        return ActionableError(
            "cannot reach the PostgreSQL store \(self) (\(action)): \(cause)",
            hint:
                "check that the server runs and accepts TCP connections on \(host):\(port); sslmode=disable if "
                + "it has no TLS"
        )
    }
}
