/// A coding key that is any string: the one key naming a workload (`{"rr": {...}}`) or a result
/// (`{"rrClient": {...}}`) in their encodings.
package struct NamedKey: CodingKey {
    /// The name.
    package var stringValue: String
    /// Never an index.
    package var intValue: Int? { nil }
    /// A key of that name.
    package init(stringValue: String) { self.stringValue = stringValue }
    /// No index keys.
    package init?(intValue: Int) { nil }

    /// The one key of an encoding that is one key holding its value (`{"rr": {...}}`), with its
    /// container; `what` names the thing for the error (`a workload`).
    package static func single(in decoder: any Decoder, _ what: String) throws
        -> (container: KeyedDecodingContainer<NamedKey>, key: NamedKey)
    {
        let container = try decoder.container(keyedBy: NamedKey.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\(what) is one key naming its kind"))
        }
        return (container, key)
    }
}
