/// What fio does in one job: `read`, `write`, `randread`, `randwrite`, `randrw` (mixed), `rw`.
package enum FioPattern: String, Codable, Sendable, CaseIterable {
    case read, write, randread, randwrite, randrw, rw

    /// Whether the job reads, writes or both.
    package var reads: Bool { self != .write && self != .randwrite }
    package var writes: Bool { self != .read && self != .randread }
}

/// fio's I/O engine.
package enum FioIOEngine: String, Codable, Sendable, CaseIterable {
    case libaio
    case io_uring = "io_uring"
    case psync
}

/// One fio job: the pattern, block size, queue depth, number of jobs and read share of a mix.
package struct FioJob: Codable, Equatable, Sendable {
    /// A short name: the `job` label (`randread-4k-qd16x8`).
    package var name: String
    package var rw: FioPattern
    /// Block size, bytes.
    package var blockSize: Int
    package var iodepth: Int
    package var numjobs: Int
    /// Percent of reads in a mixed job (`randrw`, `rw`).
    package var readPercent: Int?

    package init(
        rw: FioPattern, blockSize: Int, iodepth: Int, numjobs: Int = 1, readPercent: Int? = nil, name: String? = nil
    ) {
        self.rw = rw
        self.blockSize = blockSize
        self.iodepth = iodepth
        self.numjobs = numjobs
        self.readPercent = readPercent
        self.name = name ?? FioJob.defaultName(rw, blockSize, iodepth, numjobs, readPercent)
    }

    static func defaultName(_ rw: FioPattern, _ bs: Int, _ qd: Int, _ n: Int, _ mix: Int?) -> String {
        let size = bs % 1_048_576 == 0 ? "\(bs / 1_048_576)m" : bs % 1024 == 0 ? "\(bs / 1024)k" : "\(bs)b"
        return "\(rw.rawValue)\(mix.map { "\($0)" } ?? "")-\(size)-qd\(qd)" + (n > 1 ? "x\(n)" : "")
    }

    /// The paper's job file (Felter et al.), each job on its own: sequential fill (1 MiB, QD16),
    /// sequential read 1 MiB at QD1 and QD2, random write 4 KiB QD16 x 1 and x 8 jobs, random read
    /// 4 KiB QD16 x 1 and x 8, mixed 70/30 4 KiB QD32 x 8.
    package static let paper: [FioJob] = [
        FioJob(rw: .write, blockSize: 1 << 20, iodepth: 16),
        FioJob(rw: .read, blockSize: 1 << 20, iodepth: 1),
        FioJob(rw: .read, blockSize: 1 << 20, iodepth: 2),
        FioJob(rw: .randwrite, blockSize: 4096, iodepth: 16),
        FioJob(rw: .randwrite, blockSize: 4096, iodepth: 16, numjobs: 8),
        FioJob(rw: .randread, blockSize: 4096, iodepth: 16),
        FioJob(rw: .randread, blockSize: 4096, iodepth: 16, numjobs: 8),
        FioJob(rw: .randrw, blockSize: 4096, iodepth: 32, numjobs: 8, readPercent: 70),
    ]
}

/// A block-I/O point: one fio job against one file in the step's storage placement, run by Debian's
/// fio on the SUT alone, time based with the step's warm-up as fio's ramp.
package struct FioSpec: WorkloadSpec {
    package var job: FioJob
    /// The file's size, bytes (laid out and verified at prepare).
    package var size: Int
    package var ioengine: FioIOEngine
    /// O_DIRECT (bypass the page cache).
    package var direct: Bool

    package init(job: FioJob, size: Int = 64 << 20, ioengine: FioIOEngine = .libaio, direct: Bool = true) {
        self.job = job
        self.size = size
        self.ioengine = ioengine
        self.direct = direct
    }

    package func problems() -> [String] {
        var out: [String] = []
        if !(512...(64 << 20)).contains(job.blockSize) || job.blockSize % 512 != 0 {
            out.append("block size must be a multiple of 512 bytes up to 64 MiB, got \(job.blockSize)")
        }
        if !(1...4096).contains(job.iodepth) { out.append("iodepth must be 1...4096, got \(job.iodepth)") }
        if !(1...256).contains(job.numjobs) { out.append("numjobs must be 1...256, got \(job.numjobs)") }
        if size < job.blockSize * job.numjobs { out.append("size must hold a block per job, got \(size) bytes") }
        if let mix = job.readPercent, !(0...100).contains(mix) { out.append("read share must be 0...100%, got \(mix)") }
        if job.readPercent != nil && job.rw != .randrw && job.rw != .rw {
            out.append("a read share needs --rw randrw or rw")
        }
        if !job.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
            out.append("a job name is letters, digits, - _ and ., got '\(job.name)'")
        }
        return out
    }

    /// Laying the file out and checking it: at most ten minutes.
    package var prepareBudgetNs: Int64 { 600_000_000_000 }
}

extension FioSpec {
    package static let kind = "fio"

    package var labels: [String: String] {
        var l = [
            "job": job.name, "rw": job.rw.rawValue, "block_bytes": String(job.blockSize),
            "iodepth": String(job.iodepth), "numjobs": String(job.numjobs), "ioengine": ioengine.rawValue,
            "direct": direct ? "1" : "0", "size_bytes": String(size),
        ]
        if let mix = job.readPercent { l["read_pct"] = String(mix) }
        return l
    }

    package var stepName: String { "fio-\(job.name)" }

    package var summary: String {
        "fio \(job.rw.rawValue) \(job.blockSize) B, QD\(job.iodepth) x \(job.numjobs) job(s), \(ioengine.rawValue)"
            + (direct ? ", O_DIRECT" : "") + ", \(size >> 20) MiB file"
    }
}
