package import KilnBasics

/// What the fake provider saw: the evidence for "never pay twice" and for rate-limit behaviour.
package struct FakeProviderStatistics: Sendable, Hashable {
    /// Chat requests received, faulty or not.
    package var requests = 0
    /// Requests answered with a valid 200.
    package var succeeded = 0
    /// Successful answers to a request body that had already been answered successfully: paid twice.
    package var duplicateSuccesses = 0
    package var byStatus: [Int: Int] = [:]
    package var faults: [String: Int] = [:]
    package var maxInFlight = 0
    /// Requests refused by the hidden requests-per-second limit.
    package var hiddenLimitRejections = 0
    /// Batches accepted (OpenAI and Anthropic batch APIs), and the requests they carried.
    package var batchSubmissions = 0
    package var batchRequests = 0

    package init() {}

    package var json: JSONValue {
        var object = JSONObject()
        object["requests"] = .integer(requests)
        object["succeeded"] = .integer(succeeded)
        object["duplicate_successes"] = .integer(duplicateSuccesses)
        object["by_status"] = .object(
            JSONObject(byStatus.sorted { $0.key < $1.key }.map { (String($0.key), .integer($0.value)) }))
        object["faults"] = .object(JSONObject(faults.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) }))
        object["max_in_flight"] = .integer(maxInFlight)
        object["hidden_limit_rejections"] = .integer(hiddenLimitRejections)
        object["batch_submissions"] = .integer(batchSubmissions)
        object["batch_requests"] = .integer(batchRequests)
        return .object(object)
    }

    package init(json: JSONValue) {
        requests = json["requests"]?.numberValue.map { Int($0) } ?? 0
        succeeded = json["succeeded"]?.numberValue.map { Int($0) } ?? 0
        duplicateSuccesses = json["duplicate_successes"]?.numberValue.map { Int($0) } ?? 0
        for (key, value) in json["by_status"]?.objectValue ?? JSONObject() {
            if let status = Int(key) { byStatus[status] = value.numberValue.map { Int($0) } ?? 0 }
        }
        for (key, value) in json["faults"]?.objectValue ?? JSONObject() {
            faults[key] = value.numberValue.map { Int($0) } ?? 0
        }
        maxInFlight = json["max_in_flight"]?.numberValue.map { Int($0) } ?? 0
        hiddenLimitRejections = json["hidden_limit_rejections"]?.numberValue.map { Int($0) } ?? 0
        batchSubmissions = json["batch_submissions"]?.numberValue.map { Int($0) } ?? 0
        batchRequests = json["batch_requests"]?.numberValue.map { Int($0) } ?? 0
    }
}
