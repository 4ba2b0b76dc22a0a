package import KilnProviders

/// The deterministic fake model behind `kind: fake` providers without a `base_url` (the no-key demo, tests). The
/// command layer, which links the fake, supplies it: the engine and the stages never import test support.
package protocol FakeModelHost: Sendable {
    /// Starts a fake model server on loopback: its base URL (…/v1), and how to stop it.
    func startServer() throws -> (baseURL: String, stop: @Sendable () -> Void)
    /// A transport that answers in process, for commands that promise to open no port (`search`, `mcp`).
    func inProcessTransport() -> any HTTPTransport
}
