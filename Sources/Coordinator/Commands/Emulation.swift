import Shared

/// The line every table ends with when a `kvm` guest ran under TCG: qemu emulated its CPU, so its
/// numbers say nothing about KVM's cost.
enum Emulation {
    /// The note for the steps of `outcomes` whose guest ran under TCG, or `nil` when none did.
    static func note(_ outcomes: [StepOutcome]) -> String? {
        note(cells: outcomes.filter { $0.modeLabels["accel"] == Accelerator.tcg.rawValue }.map(\.stepID))
    }

    /// The note for these steps or cells, or `nil` for none.
    static func note(cells: [String]) -> String? {
        guard !cells.isEmpty else { return nil }
        return "note: \(cells.joined(separator: ", ")) ran the kvm guest under TCG (qemu's emulator, accel=tcg): "
            + "emulated results are not performance results"
    }
}
