/// Recognises API keys written literally where only a reference to an environment variable belongs.
enum SecretPatterns {
    /// Key shapes of the providers Kiln users call; each is long enough not to match ordinary prose.
    private static var patterns: [Regex<Substring>] {
        [
            /sk-[A-Za-z0-9_\-]{20,}/,
            /AIza[0-9A-Za-z_\-]{30,}/,
            /gsk_[A-Za-z0-9]{20,}/,
            /fw_[A-Za-z0-9]{20,}/,
            /xai-[A-Za-z0-9]{20,}/,
            /hf_[A-Za-z0-9]{30,}/,
            /[Bb]earer\s+[A-Za-z0-9._\-]{20,}/,
        ]
    }

    /// Mapping keys that would hold a secret; a pipeline names the variable with `api_key_env` instead.
    static let secretKeyNames: Set<String> = [
        "api_key", "apikey", "api-key", "key", "token", "secret", "password", "authorization", "access_token",
    ]

    static func looksLikeSecret(_ text: String) -> Bool {
        patterns.contains { text.contains($0) }
    }
}
