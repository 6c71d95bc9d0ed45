/// A host and port, written `HOST:PORT` (IPv6 as `[::1]:PORT`).
package struct Endpoint: Codable, Hashable, Sendable, CustomStringConvertible {
    /// Host name or address (IPv6 without brackets).
    package var host: String
    /// TCP or UDP port.
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; `nil` when the port is missing or out of range.
    package init?(parsing text: String) {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        host = host.filter { !$0.isWhitespace }[...]
        self.init(host: String(host), port: port)
    }

    /// `HOST:PORT`, brackets around IPv6 hosts.
    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
