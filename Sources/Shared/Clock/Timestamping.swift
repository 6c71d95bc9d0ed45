import CLockstepSys

#if canImport(Glibc)
    import Glibc
#endif

/// What the network interface under an agent's control address offers for timestamping its clock
/// probes (ETHTOOL_GET_TS_INFO), recorded in the agent's host facts. lockstep stamps probes in
/// software (the kernel's receive and transmit stamps); a PTP hardware clock is reported when the
/// NIC has one so that a run says what a hardware-stamped path could do there.
package struct Timestamping: Codable, Equatable, Sendable {
    /// The interface holding the address (`lo`, `eth0`); `nil` when the agent listens on any address.
    package var interface: String?
    /// The kernel stamps received and sent datagrams in software there (SOF_TIMESTAMPING_RX/TX_SOFTWARE).
    package var software: Bool
    /// The NIC stamps received and sent packets in hardware (SOF_TIMESTAMPING_RX/TX_HARDWARE).
    package var hardware: Bool
    /// The index of its PTP hardware clock (`/dev/ptpN`), if any.
    package var phcIndex: Int?
    /// What the probes use: `software` (hardware stamps are not used yet, see README).
    package var used: String

    package init(interface: String?, software: Bool, hardware: Bool, phcIndex: Int?, used: String = "software") {
        self.interface = interface
        self.software = software
        self.hardware = hardware
        self.phcIndex = phcIndex
        self.used = used
    }

    // SOF_TIMESTAMPING_* bits (linux/net_tstamp.h).
    static let txHardware: UInt32 = 1 << 0
    static let txSoftware: UInt32 = 1 << 1
    static let rxHardware: UInt32 = 1 << 2
    static let rxSoftware: UInt32 = 1 << 3

    /// The capabilities behind `address` (an IPv4 or IPv6 literal); software only when the address
    /// is a wildcard or the driver does not answer (the kernel stamps in software on every interface).
    package static func of(address: String) -> Timestamping {
        guard let name = interface(holding: address) else {
            return Timestamping(interface: nil, software: true, hardware: false, phcIndex: nil)
        }
        var caps: UInt32 = 0
        var phc: Int32 = -1
        guard lockstep_timestamping_info(name, &caps, &phc) == 0 else {
            return Timestamping(interface: name, software: true, hardware: false, phcIndex: nil)
        }
        return Timestamping(
            interface: name, software: caps & (rxSoftware | txSoftware) != 0 || name == "lo",
            hardware: caps & (rxHardware | txHardware) == (rxHardware | txHardware),
            phcIndex: phc >= 0 ? Int(phc) : nil)
    }

    /// The name of the interface that holds `address`, from getifaddrs.
    static func interface(holding address: String) -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var node = list
        while let entry = node?.pointee {
            defer { node = entry.ifa_next }
            guard let sa = entry.ifa_addr else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let length =
                sa.pointee.sa_family == sa_family_t(AF_INET6)
                ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
            guard [sa_family_t(AF_INET), sa_family_t(AF_INET6)].contains(sa.pointee.sa_family),
                getnameinfo(sa, socklen_t(length), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0
            else { continue }
            let bytes = host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            let text = String(decoding: bytes, as: UTF8.self).split(separator: "%").first.map(String.init) ?? ""
            if text == address { return String(cString: entry.ifa_name) }
        }
        return nil
    }
}
