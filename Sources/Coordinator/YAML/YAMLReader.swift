import Foundation
import Shared
import Yams

/// Typed access to a YAML file (a lab file, a plan) with the file, line and column in every error.
struct YAMLReader {
    let path: String
    /// The file's folder: relative paths in it are relative to this.
    let dir: String
    /// The error code of this kind of file.
    let code: FileCode

    init(path: String, code: FileCode) {
        self.path = path
        self.dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        self.code = code
    }

    /// A syntax error as one line: where and what.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return "line \(mark.line), column \(mark.column): \(problem)\(context.map { " \($0.text)" } ?? "")"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }

    /// The file's root node; a missing file, a syntax error or an empty file is one line.
    func root() throws -> Node {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FileError(code, "cannot read \(path)")
        }
        return try root(text)
    }

    /// The root node of `text` (the contents of ``path``).
    func root(_ text: String) throws -> Node {
        do {
            guard let root = try Yams.compose(yaml: text) else { throw FileError(code, "\(path): the file is empty") }
            return root
        } catch let error as YamlError {
            throw FileError(code, "\(path): \(Self.describe(error))")
        }
    }

    func error(_ node: Node, _ message: String) -> FileError {
        guard let mark = node.mark else { return FileError(code, "\(path): \(message)") }
        return FileError(code, "\(path):\(mark.line):\(mark.column): \(message)")
    }

    /// A mapping whose keys must be among `keys`, in the file's order.
    func orderedMapping(_ node: Node, _ what: String, keys: Set<String>?) throws -> [(
        key: String, keyNode: Node, value: Node
    )] {
        guard let mapping = node.mapping else { throw error(node, "\(what) must be a mapping of keys") }
        var out: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard let k = key.string, keys?.contains(k) ?? true else {
                throw error(
                    key,
                    "unknown key '\(key.string ?? "?")' in \(what) (known: \(keys?.sorted().joined(separator: ", ") ?? ""))"
                )
            }
            out.append((k, key, value))
        }
        return out
    }

    func mapping(_ node: Node, _ what: String, keys: Set<String>) throws -> [String: Node] {
        Dictionary(try orderedMapping(node, what, keys: keys).map { ($0.key, $0.value) }) { a, _ in a }
    }

    func string(_ map: [String: Node], _ key: String, in parent: Node) throws -> String {
        guard let node = map[key] else { throw error(parent, "missing `\(key)`") }
        guard let s = node.scalar?.string, !s.isEmpty else {
            throw error(node, "`\(key)` must be a non-empty string")
        }
        return s
    }

    /// A path: `~` expanded, relative to the file's folder.
    func path(_ map: [String: Node], _ key: String, in parent: Node, default fallback: String) throws -> String {
        let raw = map[key] == nil ? fallback : try string(map, key, in: parent)
        let expanded = (raw as NSString).expandingTildeInPath
        return expanded.hasPrefix("/") ? expanded : "\(dir)/\(expanded)"
    }
}
