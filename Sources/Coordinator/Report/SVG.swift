import Foundation

/// An SVG (or HTML) document as a tree of small values, rendered once: figures are built and
/// tested as values (elements, attributes, coordinates), not as strings or pixels.
struct SVGNode: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case element(name: String, attributes: [Attribute], children: [SVGNode])
        case text(String)
        /// Markup rendered as it is (an inline stylesheet, a rendered child document).
        case raw(String)
    }

    struct Attribute: Equatable, Sendable {
        var name: String
        var value: String
    }

    var kind: Kind

    static func element(_ name: String, _ attributes: [(String, String)] = [], _ children: [SVGNode] = [])
        -> SVGNode
    {
        SVGNode(
            kind: .element(
                name: name, attributes: attributes.map { Attribute(name: $0.0, value: $0.1) }, children: children))
    }

    static func text(_ text: String) -> SVGNode { SVGNode(kind: .text(text)) }
    static func raw(_ markup: String) -> SVGNode { SVGNode(kind: .raw(markup)) }

    /// The element's name, or `nil` for text.
    var name: String? {
        if case .element(let name, _, _) = kind { name } else { nil }
    }

    /// An attribute's value, if the node is an element that has it.
    subscript(attribute: String) -> String? {
        guard case .element(_, let attributes, _) = kind else { return nil }
        return attributes.first { $0.name == attribute }?.value
    }

    var children: [SVGNode] {
        if case .element(_, _, let children) = kind { children } else { [] }
    }

    /// Every element below and including this one, depth first.
    var all: [SVGNode] { [self] + children.flatMap(\.all) }

    /// The elements named `name` below and including this one.
    func elements(_ name: String) -> [SVGNode] { all.filter { $0.name == name } }

    /// The text inside, concatenated.
    var textContent: String {
        switch kind {
        case .text(let t): t
        case .raw: ""
        case .element(_, _, let children): children.map(\.textContent).joined()
        }
    }

    /// The markup.
    func render() -> String {
        var out = ""
        render(into: &out)
        return out
    }

    private func render(into out: inout String) {
        switch kind {
        case .text(let text):
            out += Self.escape(text)
        case .raw(let markup):
            out += markup
        case .element(let name, let attributes, let children):
            out += "<" + name
            for a in attributes { out += " \(a.name)=\"\(Self.escape(a.value))\"" }
            if children.isEmpty && !Self.htmlContainers.contains(name) {
                out += "/>"
                return
            }
            out += ">"
            for child in children { child.render(into: &out) }
            out += "</\(name)>"
        }
    }

    /// HTML elements that must be closed even when empty.
    private static let htmlContainers: Set<String> = [
        "html", "head", "body", "div", "section", "table", "thead", "tbody", "tr", "td", "th", "p", "span", "h1",
        "h2", "h3", "details", "summary", "style", "script", "title", "ul", "li", "code", "figure", "figcaption",
        "a", "pre", "small", "nav",
    ]

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// Numbers in SVG attributes: two decimals at most, no trailing zeros.
func svgNumber(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let rounded = (v * 100).rounded() / 100
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    var text = String(format: "%.2f", rounded)
    while text.hasSuffix("0") { text.removeLast() }
    return text
}
