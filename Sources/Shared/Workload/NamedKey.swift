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
}
