// swift-tools-version: 6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "kiln-pipe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kiln-pipe", targets: ["kiln-pipe"]),
        .executable(name: "kiln-pipe-fake-provider", targets: ["kiln-pipe-fake-provider"]),
    ],
    // The PostgreSQL store brings postgres-nio and two copies of BoringSSL: measured here, a clean build of the
    // kiln-pipe product took 294 s (2,213 steps) with it and 63 s (502 steps) without. It is on by default (release
    // builds, CI, `make test`); `make demo` builds without it.
    traits: [
        .trait(
            name: "PostgreSQL",
            description: "The checkpoint store in a shared PostgreSQL database (--state postgres://…), for shards."),
        .default(enabledTraits: ["PostgreSQL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Already built for postgres-nio; declared because KilnPostgres imports NIOSSL (TLS for sslmode=require).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The binary: parses arguments and hands over to KilnCommands, nothing else.
        .executableTarget(
            name: "kiln-pipe",
            dependencies: ["KilnCommands"],
            swiftSettings: strictSettings
        ),
        // One subcommand per file: options -> one context -> library call -> exit code.
        .target(
            name: "KilnCommands",
            dependencies: [
                "KilnRunner", "KilnStages", "KilnProviders", "KilnFakeProvider", "KilnIndex", "KilnReports",
                "KilnLoading", "KilnProject", "KilnStore", "KilnModel", "KilnBasics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Runs pipelines: the stage graph and its channels, plan, freeze, shards, where the store is.
        .target(
            name: "KilnRunner",
            dependencies: [
                "KilnStages", "KilnScheduler", "KilnProviders", "KilnStore", "KilnIndex", "KilnProject", "KilnReports",
                "KilnModel", "KilnBasics", .target(name: "KilnPostgres", condition: .when(traits: ["PostgreSQL"])),
            ],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        // The stage types, each running its own loop, and the call layer and streaming helpers they share
        // (Calls/ Streaming/ Generation/ Judge/ Datasets/ Documents/); stages never import each other.
        .target(
            name: "KilnStages",
            dependencies: [
                "KilnScheduler", "KilnProviders", "KilnStore", "KilnExport", "KilnProject", "KilnIngest", "KilnIndex",
                "KilnModel", "KilnBasics",
            ],
            swiftSettings: strictSettings
        ),
        // Documents to text (PDF through poppler, HTML and DOCX through libxml2, Markdown, text) and chunks.
        .target(
            name: "KilnIngest",
            dependencies: ["KilnModel", "CPoppler", "CLibXML2", "ZIPFoundation"],
            swiftSettings: strictSettings
        ),
        // Search indexes in SQLite: FTS5 BM25, stored vectors with exact cosine search, hybrid rank fusion.
        .target(
            name: "KilnIndex",
            dependencies: ["KilnBasics"],
            swiftSettings: strictSettings
        ),
        // Fine-tune exports in Kiln's formats, byte for byte (pure).
        .target(
            name: "KilnExport",
            dependencies: ["KilnModel", "KilnBasics"],
            swiftSettings: strictSettings
        ),
        // The one place that reads and writes Kiln project folders: finds tasks, reads runs and splits, writes task
        // runs, evals and dataset splits as Kiln 1.2.0 does.
        .target(
            name: "KilnProject",
            dependencies: ["KilnExport", "KilnModel", "KilnBasics"],
            swiftSettings: strictSettings
        ),
        // Eval reports: Markdown summary, JUnit XML, summary.json (pure, streamed from a judge stage's results).
        .target(
            name: "KilnReports",
            dependencies: ["KilnModel", "KilnBasics"],
            swiftSettings: strictSettings
        ),
        // Pipeline YAML -> model: interpolation, located diagnostics, graph and schema checks.
        .target(
            name: "KilnLoading",
            dependencies: ["KilnProject", "KilnModel", "KilnBasics", "Yams"],
            swiftSettings: strictSettings
        ),
        // Pure Sendable value types of a pipeline: providers, task, stages and their settings.
        .target(
            name: "KilnModel",
            dependencies: ["KilnBasics"],
            swiftSettings: strictSettings
        ),
        // Small shared utilities: diagnostics, JSON values, near-miss suggestions, SHA-256, SQLite.
        .target(
            name: "KilnBasics",
            dependencies: ["CSQLite"],
            swiftSettings: strictSettings
        ),
        // Per-provider adaptive concurrency, request/token buckets, Retry-After, retries, the cost budget.
        .target(
            name: "KilnScheduler",
            dependencies: [],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        // Model endpoints behind one protocol: OpenAI-compatible today; an HTTP transport seam for tests.
        .target(
            name: "KilnProviders",
            dependencies: ["KilnModel", "KilnBasics", "CCurl"],
            swiftSettings: strictSettings
        ),
        // The deterministic OpenAI-compatible fake model server (loopback), for tests and the no-key demo.
        .target(
            name: "KilnFakeProvider",
            dependencies: ["KilnBasics"],
            swiftSettings: strictSettings
        ),
        // The fake model as a standalone server a pipeline's base_url can point at.
        .executableTarget(
            name: "kiln-pipe-fake-provider",
            dependencies: ["KilnFakeProvider"],
            swiftSettings: strictSettings
        ),
        // `make bench`: throughput, CPU per call and streaming memory of the release binaries.
        .executableTarget(
            name: "kiln-pipe-bench",
            dependencies: [
                "KilnRunner", "KilnStages", "KilnIngest", "KilnIndex", "KilnBasics", "KilnFakeProvider", "KilnLoading",
                "KilnReports", "KilnStore", "KilnModel",
            ],
            path: "Benchmarks/kiln-pipe-bench",
            swiftSettings: strictSettings
        ),
        // `make fuzz`: mutated seeds through the pipeline loader, the data file readers and the document extractors.
        .executableTarget(
            name: "kiln-pipe-fuzz",
            dependencies: ["KilnLoading", "KilnModel", "KilnIngest", "KilnBasics", "ZIPFoundation"],
            path: "Benchmarks/kiln-pipe-fuzz",
            swiftSettings: strictSettings
        ),
        // The system libcurl (OpenSSL flavour), through a shim for its variadic setopt calls.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // poppler's GLib API (Debian ships no headers for its C++ core), loaded with dlopen on the first PDF: linked,
        // its ~40 dependencies (cairo, X11, GIO, NSS…) slowed the start of every command by ~35 ms.
        .target(name: "CPoppler"),
        // libxml2's HTML and XML parsers.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // The system libsqlite3 (Debian's has WAL, FTS5 and JSON built in).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Checkpoint store: validated results and provider calls, content addressed, in SQLite (WAL).
        .target(
            name: "KilnStore",
            dependencies: ["KilnScheduler", "KilnModel", "KilnBasics"],
            swiftSettings: strictSettings
        ),
        // The checkpoint store in a shared PostgreSQL database (postgres-nio), for sharded runs on several machines.
        .target(
            name: "KilnPostgres",
            dependencies: [
                "KilnStore", "KilnModel", "KilnBasics",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Test support: a throwaway PostgreSQL server on loopback.
        .target(
            name: "KilnTesting",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnPostgresTests",
            dependencies: ["KilnPostgres", "KilnTesting"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnBasicsTests",
            dependencies: ["KilnBasics"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnIngestTests",
            dependencies: ["KilnIngest", "KilnModel", "KilnBasics"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnIndexTests",
            dependencies: ["KilnIndex", "KilnBasics"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnModelTests",
            dependencies: ["KilnModel", "KilnBasics"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnProvidersTests",
            dependencies: ["KilnProviders", "KilnFakeProvider", "KilnModel", "KilnBasics"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnExportTests",
            dependencies: ["KilnExport", "KilnModel", "KilnBasics"],
            exclude: ["Snapshots"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnProjectTests",
            dependencies: ["KilnProject", "KilnModel", "KilnBasics"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnReportsTests",
            dependencies: ["KilnReports", "KilnModel", "KilnBasics"],
            exclude: ["Snapshots"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnStagesTests",
            dependencies: [
                "KilnStages", "KilnScheduler", "KilnFakeProvider", "KilnProviders", "KilnProject", "KilnExport",
                "KilnModel", "KilnBasics",
            ],
            exclude: ["Snapshots"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnSchedulerTests",
            dependencies: ["KilnScheduler"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnStoreTests",
            dependencies: ["KilnStore", "KilnScheduler", "KilnPostgres", "KilnTesting", "KilnModel", "KilnBasics"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnLoadingTests",
            dependencies: ["KilnLoading", "KilnModel", "KilnBasics"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KilnCommandsTests",
            // kiln-pipe: the binary the end-to-end tests run.
            dependencies: [
                "kiln-pipe", "KilnCommands", "KilnStages", "KilnModel", "KilnFakeProvider", "KilnTesting", "KilnBasics",
                "KilnProviders",
            ],
            exclude: ["Support"],
            swiftSettings: strictSettings
        ),
    ]
)
