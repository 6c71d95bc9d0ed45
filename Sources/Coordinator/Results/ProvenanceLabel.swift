/// The `provenance` label every sample of a step carries: each agent's host fingerprint
/// (``Provenance/digest()`` when the step ended) by agent name, written as `name=digest` pairs in
/// name order, separated by spaces. Made and read only here.
struct ProvenanceLabel: Equatable, Sendable {
    /// The label's key in a sample's labels.
    static let key = "provenance"
    /// Agent name -> its host's fingerprint.
    var digests: [String: String]

    init(digests: [String: String]) { self.digests = digests }

    /// The label as a sample carries it (`nil`: absent or malformed pairs are left out).
    init(label: String?) {
        var digests: [String: String] = [:]
        for pair in (label ?? "").split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { digests[parts[0]] = parts[1] }
        }
        self.digests = digests
    }

    /// The label's text; `nil` when no agent reported a fingerprint.
    var label: String? {
        digests.isEmpty
            ? nil : digests.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
