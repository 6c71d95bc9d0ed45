import Foundation
import Shared

#if canImport(Glibc)
    import Glibc
#endif

/// The few QMP (QEMU Machine Protocol) commands the host agent needs, over qemu's unix socket: the
/// greeting, `qmp_capabilities`, then one command at a time, each answer a JSON line (`return` or
/// `error`); asynchronous `event` lines in between are skipped.
struct QMPClient {
    private let fd: Int32
    private var pending = Data()

    /// Connects to `path`, reads the greeting and leaves capabilities negotiation mode.
    init(path: String, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw WireError(.modeFailed, "qmp: cannot make a socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            throw WireError(.modeFailed, "qmp: socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw WireError(.modeFailed, "qmp: cannot connect to \(path): \(message)")
        }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = try line()  // {"QMP": {...}}
        _ = try execute("qmp_capabilities")
    }

    func close() { _ = Glibc.close(fd) }

    /// Runs `command` and returns its `return` value; a QMP `error` throws with its description.
    mutating func execute(_ command: String) throws -> Any {
        let request = Data("{\"execute\":\"\(command)\"}\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { throw WireError(.modeFailed, "qmp: cannot send \(command)") }
        while true {
            let object = try line()
            if let value = object["return"] { return value }
            if let error = object["error"] as? [String: Any] {
                throw WireError(.modeFailed, "qmp \(command): \(error["desc"] as? String ?? "\(error)")")
            }
        }
    }

    /// The host thread id of each vCPU, by CPU index (`query-cpus-fast`).
    mutating func vcpuThreads() throws -> [Int32] {
        guard let cpus = try execute("query-cpus-fast") as? [[String: Any]] else {
            throw WireError(.modeFailed, "qmp query-cpus-fast: unexpected answer")
        }
        return cpus.sorted { ($0["cpu-index"] as? Int ?? 0) < ($1["cpu-index"] as? Int ?? 0) }
            .compactMap { ($0["thread-id"] as? Int).map(Int32.init) }
    }

    /// The next JSON object line.
    private mutating func line() throws -> [String: Any] {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let text = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                if let object = try? JSONSerialization.jsonObject(with: text) as? [String: Any] { return object }
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw WireError(.modeFailed, "qmp: no answer from qemu") }
            pending.append(contentsOf: buffer[0..<n])
        }
    }
}
