import Foundation

/// fio's `--output-format=json+` report, decoded strictly: a field fio always writes that is missing
/// is a decode error, never a zero (fio exits 0 after some failures, so its JSON, not its status,
/// says whether a job ran). Only what lockstep reads is declared.
package struct FioReport: Decodable, Equatable, Sendable {
    /// `fio-3.33`.
    package var version: String
    package var jobs: [Job]
    /// The devices' utilization over the run, where fio can tell (not for every file system).
    package var diskUtil: [DiskUtil]?

    enum CodingKeys: String, CodingKey {
        case version = "fio version"
        case jobs
        case diskUtil = "disk_util"
    }

    /// One job's (or, with group_reporting, one group's) result.
    package struct Job: Decodable, Equatable, Sendable {
        package var jobname: String
        /// fio's error number for the job (0: none).
        package var error: Int
        package var read: Direction
        package var write: Direction
        /// CPU use of fio's threads, percent of one CPU.
        package var usrCPU: Double
        package var sysCPU: Double

        enum CodingKeys: String, CodingKey {
            case jobname, error, read, write
            case usrCPU = "usr_cpu"
            case sysCPU = "sys_cpu"
        }
    }

    /// One direction of a job.
    package struct Direction: Decodable, Equatable, Sendable {
        package var ioBytes: UInt64
        package var bwBytes: Double
        package var iops: Double
        /// Milliseconds the direction ran (after the ramp).
        package var runtime: UInt64
        package var totalIOs: UInt64
        package var shortIOs: UInt64
        package var slat: Latency
        package var clat: Latency
        package var lat: Latency

        enum CodingKeys: String, CodingKey {
            case ioBytes = "io_bytes"
            case bwBytes = "bw_bytes"
            case iops, runtime
            case totalIOs = "total_ios"
            case shortIOs = "short_ios"
            case slat = "slat_ns"
            case clat = "clat_ns"
            case lat = "lat_ns"
        }
    }

    /// A latency distribution in nanoseconds: its moments, fio's percentiles and (json+) its bins.
    package struct Latency: Decodable, Equatable, Sendable {
        package var min: UInt64
        package var max: UInt64
        package var mean: Double
        package var stddev: Double
        /// `"99.000000"` -> ns; only for completion latency unless lat_percentiles=1.
        package var percentile: [String: UInt64]?
        /// json+: every bucket's value (ns) -> count.
        package var bins: [String: UInt64]?

        enum CodingKeys: String, CodingKey {
            case min, max, mean, stddev, percentile, bins
        }
    }

    /// A device's utilization.
    package struct DiskUtil: Decodable, Equatable, Sendable {
        package var name: String
        package var util: Double
    }

    /// Decodes a report from fio's output: anything before the first `{` (warnings fio writes to the
    /// same stream) is skipped; no JSON, truncated JSON or a missing field is an error naming it.
    package static func decode(_ text: String) throws -> FioReport {
        guard let start = text.firstIndex(of: "{") else { throw FioReportError("no JSON in fio's output") }
        do {
            return try JSONDecoder().decode(FioReport.self, from: Data(text[start...].utf8))
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw FioReportError("fio's JSON has no \(path)")
        } catch let DecodingError.dataCorrupted(context) {
            throw FioReportError("fio's JSON is not valid: \(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw FioReportError("fio's JSON has an unexpected value at \(path)")
        } catch {
            throw FioReportError("fio's JSON cannot be read: \(error)")
        }
    }
}

/// Why fio's output could not be read.
package struct FioReportError: Error, Equatable, Sendable {
    package var message: String
    package init(_ message: String) { self.message = message }
}
