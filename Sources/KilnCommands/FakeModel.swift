import KilnFakeProvider
import KilnProviders
import KilnStages

/// The fake model for `kind: fake` providers without a base_url: a loopback server per provider, or in process.
struct FakeModel: FakeModelHost {
    func startServer() throws -> (baseURL: String, stop: @Sendable () -> Void) {
        let fake = FakeProvider()
        try fake.start()
        return (fake.baseURL, { fake.stop() })
    }

    func inProcessTransport() -> any HTTPTransport { InProcessFakeTransport(fake: FakeProvider()) }
}
