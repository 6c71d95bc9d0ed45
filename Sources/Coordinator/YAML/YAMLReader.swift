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

    /// The largest file read: plans and lab files are a few kilobytes.
    static let maxBytes = 1 << 20
    /// The deepest nesting accepted (a plan nests four levels).
    static let maxDepth = 64
    /// The most nodes the file may stand for once its aliases are expanded.
    static let maxNodes = 100_000

    /// The file's root node; a missing file, a FIFO or device, a file over 1 MiB, a syntax error or
    /// an empty file is one line.
    func root() throws -> Node { try read().root }

    /// The file's text and root node (see ``root()``).
    func read() throws -> (text: String, root: Node) {
        let text: String
        do { text = try SmallFile.text(path, limit: Self.maxBytes) } catch { throw FileError(code, "\(error)") }
        return (text, try root(text))
    }

    /// The root node of `text` (the contents of ``path``). Nesting deeper than ``maxDepth`` is
    /// refused before the parser sees it (its composer recurses), and aliases that expand to more
    /// than ``maxNodes`` nodes (a "billion laughs") once composed, without expanding them.
    func root(_ text: String) throws -> Node {
        if let line = Self.tooDeep(text) {
            throw FileError(code, "\(path):\(line): nested deeper than \(Self.maxDepth) levels")
        }
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                throw FileError(code, "\(path): the file is empty")
            }
            root = composed
        } catch let error as YamlError {
            throw FileError(code, "\(path): \(Self.describe(error))")
        }
        var budget = Self.maxNodes
        guard Self.fits(root, budget: &budget) else {
            throw FileError(
                code, "\(path): stands for more than \(Self.maxNodes) values once its aliases are expanded")
        }
        return root
    }

    /// The first line where flow brackets or block indentation nest deeper than ``maxDepth``.
    static func tooDeep(_ text: String) -> Int? {
        var depth = 0
        var line = 1
        var quote: UInt8?
        var atLineStart = true
        var indent = 0
        for byte in text.utf8 {
            if byte == 0x0A {
                line += 1
                atLineStart = true
                indent = 0
                continue
            }
            if atLineStart {
                if byte == 0x20 || byte == UInt8(ascii: "-") {
                    indent += 1
                    if indent > 2 * maxDepth { return line }
                    continue
                }
                atLineStart = false
            }
            if let q = quote {
                if byte == q { quote = nil }
                continue
            }
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): quote = byte
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth { return line }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            default: break
            }
        }
        return nil
    }

    /// Whether `node` stands for at most `budget` nodes, counting every alias's expansion; stops
    /// counting as soon as the budget is spent (so a bomb costs at most the budget).
    static func fits(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .scalar: return true
        case .sequence(let items):
            for item in items where !fits(item, budget: &budget) { return false }
            return true
        case .mapping(let pairs):
            for (key, value) in pairs where !fits(key, budget: &budget) || !fits(value, budget: &budget) {
                return false
            }
            return true
        case .alias: return true
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
