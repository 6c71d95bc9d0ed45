import Foundation

/// How this host's idle CPUs sleep: on a virtual machine the wake-up from idle can dominate a
/// loopback round trip (an idle vCPU sleeps deeper and wakes later), so every agent records it.
package struct IdlePolicy: Codable, Equatable, Sendable {
    /// `/sys/devices/system/cpu/cpuidle/current_driver` (`intel_idle`, `acpi_idle`, `haltpoll`, `none`).
    package var driver: String?
    /// The cpuidle governor (`menu`, `teo`, `ladder`, `haltpoll`).
    package var governor: String?
    /// The boot options that set idle behaviour: `idle=`, `cpuidle.off=`, `intel_idle.max_cstate=`,
    /// `processor.max_cstate=`, and the haltpoll modules' options.
    package var bootOptions: [String]
    /// The guest's halt-poll window, nanoseconds (`haltpoll.guest_halt_poll_ns`; 0: it sleeps at once).
    package var haltPollNs: Int?

    package init(driver: String?, governor: String?, bootOptions: [String], haltPollNs: Int?) {
        self.driver = driver
        self.governor = governor
        self.bootOptions = bootOptions
        self.haltPollNs = haltPollNs
    }

    /// Read from `/sys` and `/proc/cmdline` under `root`.
    package static func current(root: String = "") -> IdlePolicy {
        func read(_ path: String) -> String? {
            (try? String(contentsOfFile: root + path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let cpuidle = "/sys/devices/system/cpu/cpuidle"
        let options = (read("/proc/cmdline") ?? "").split(separator: " ").map(String.init).filter { option in
            ["idle=", "cpuidle.off", "intel_idle.", "processor.max_cstate", "haltpoll.", "cpuidle_haltpoll."].contains {
                option.hasPrefix($0)
            }
        }
        return IdlePolicy(
            driver: read("\(cpuidle)/current_driver"),
            governor: read("\(cpuidle)/current_governor") ?? read("\(cpuidle)/current_governor_ro"),
            bootOptions: options,
            haltPollNs: read("/sys/module/haltpoll/parameters/guest_halt_poll_ns").flatMap { Int($0) })
    }
}
