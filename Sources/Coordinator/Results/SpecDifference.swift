import Foundation

/// The first field in which two encoded values differ, named by its path: what `--resume` says
/// when the command's steps are not the ones the run was started with
/// (`step redis-c1-1: placement.sutCPUs: [0] -> [1]`).
enum SpecDifference {
    /// The first difference between the steps a run recorded and the steps asked for now; `nil`
    /// when they are the same.
    static func first(_ was: [RunInfo.PlannedEntry], _ now: [RunInfo.PlannedEntry]) -> String? {
        if was.count != now.count { return "the number of steps: \(was.count) -> \(now.count)" }
        for (a, b) in zip(was, now) {
            if a.id != b.id { return "step \(a.id) is now \(b.id)" }
            guard let x = json(a.spec), let y = json(b.spec) else { return "step \(a.id) cannot be compared" }
            if let d = difference(x, y, path: "") { return "step \(a.id): \(d)" }
        }
        return nil
    }

    /// The first difference between two repetition rules (`repetition.maximum: 10 -> 5`).
    static func rule(_ was: RepetitionRule, _ now: RepetitionRule) -> String {
        difference(json(was), json(now), path: "repetition") ?? "the repetition rule"
    }

    /// A value as decoded JSON (dictionaries, arrays, scalars), for ``difference(_:_:path:)``.
    static func json<T: Encodable>(_ value: T) -> Any? {
        guard let data = try? JSONEncoder().encode(value) else { return nil }
        return try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    /// The first differing path between two JSON values, depth first in key order.
    static func difference(_ a: Any?, _ b: Any?, path: String) -> String? {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            for key in Set(x.keys).union(y.keys).sorted() {
                if let d = difference(x[key], y[key], path: path.isEmpty ? key : "\(path).\(key)") { return d }
            }
            return nil
        case (let x as [Any], let y as [Any]) where x.count == y.count:
            for (i, (u, v)) in zip(x, y).enumerated() {
                if let d = difference(u, v, path: "\(path)[\(i)]") { return d }
            }
            return nil
        default:
            let (u, v) = (render(a), render(b))
            return u == v ? nil : "\(path): \(u) -> \(v)"
        }
    }

    /// A value as JSON text; `absent` for a missing key.
    private static func render(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return value == nil ? "absent" : "null" }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]),
            let text = String(data: data, encoding: .utf8)
        {
            return text
        }
        return "\(value)"
    }
}
