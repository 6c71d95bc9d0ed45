import Coordinator
import Foundation
import NIOCore
import Shared

/// What the fuzzer feeds: every decoder that reads bytes from the network. Each must answer any
/// input with values, "need more" or its typed error, and never crash, hang or trap.
enum FuzzTargets {
    /// The fuzz targets by name.
    static let all: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
        "wire": wire, "resp": resp, "mysql": mysql, "fio": fio, "hpcc": hpcc, "probe": probe, "plan": plan,
        "lab": lab, "pods": pods, "proc": proc,
    ]

    /// hpcc's `hpccoutf.txt` as the SUT agent reads it: the summary parsed, every figure lockstep
    /// reports read as a number (typed, or one typed error).
    static func hpcc(_ bytes: UnsafeRawBufferPointer) {
        let output: HpccOutput
        do {
            output = try HpccOutput.parse(String(decoding: bytes, as: UTF8.self))
        } catch is HpccOutputError {
            return
        } catch {
            fatalError("hpcc's parser threw something other than an HpccOutputError: \(error)")
        }
        for key in ["HPL_Tflops", "StarSTREAM_Triad", "MPIRandomAccess_GUPs", "CommWorldProcs", "HPL_N"] {
            _ = try? output.number(key)
            _ = try? output.integer(key)
        }
    }

    /// A clock probe or reply as the agent's responder and the coordinator's client read it off UDP
    /// from anyone: under the session's key (anything else is dropped), and with the key's MAC made
    /// to fit so the fields behind it are read too.
    static func probe(_ bytes: UnsafeRawBufferPointer) {
        let key = ProbeKey(bytes: Array(repeating: 7, count: 32))
        _ = ProbePacket(bytes: Array(bytes), key: key)
        guard bytes.count >= 8 else { return }
        // Fields from the input, encoded under the key: the decoder must give them back.
        let words = stride(from: 0, to: bytes.count - 7, by: 8).map { at in
            (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[at + $1]) }
        }
        func word(_ i: Int) -> UInt64 { i < words.count ? words[i] : 0 }
        let packet = ProbePacket(
            kind: word(0) & 1 == 0 ? .probe : .reply, sequence: word(1), t0: Int64(bitPattern: word(2)),
            t1: Int64(bitPattern: word(3)), t2: Int64(bitPattern: word(4)), kernelReceive: word(0) & 2 != 0,
            previousSequence: word(5), previousT2: Int64(bitPattern: word(6)))
        let decoded = ProbePacket(bytes: packet.encoded(key: key), key: key)
        precondition(decoded == packet, "a probe packet did not survive its own encoding")
    }

    /// fio's JSON as the SUT agent reads it (an external tool's output: typed, or one typed error),
    /// then the step's result from it for a random read and a mix.
    static func fio(_ bytes: UnsafeRawBufferPointer) {
        let report: FioReport
        do {
            report = try FioReport.decode(String(decoding: bytes, as: UTF8.self))
        } catch is FioReportError {
            return
        } catch {
            fatalError("fio's decoder threw something other than a FioReportError: \(error)")
        }
        for job in [
            FioJob(rw: .randread, blockSize: 4096, iodepth: 16),
            FioJob(rw: .randrw, blockSize: 4096, iodepth: 8, readPercent: 70),
        ] {
            do {
                let result = try FioResult(report: report, spec: FioSpec(job: job), command: "fio", prefillBytes: 0)
                _ = result.read?.latency.histogram().totalCount
            } catch is FioReportError {
                continue
            } catch {
                fatalError("fio's result threw something other than a FioReportError: \(error)")
            }
        }
    }

    /// The control protocol's frame and message decoder (agents read it from anyone who connects).
    static func wire(_ bytes: UnsafeRawBufferPointer) {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = WireMessageDecoder(maxPayload: 64 * 1024)
        while true {
            do {
                guard try decoder.decode(buffer: &buffer) != nil else { return }
            } catch is WireError {
                return
            } catch {
                fatalError("the wire decoder threw something other than a WireError: \(error)")
            }
        }
    }

    /// RESP as the Redis load generator reads it: the value parser and the in-place scanner.
    static func resp(_ bytes: UnsafeRawBufferPointer) {
        var parser = RESPParser()
        // Half the input first, then the rest: the parser must agree with itself across pieces.
        let cut = bytes.count / 2
        parser.append(bytes[0..<cut])
        var values: [RESPValue] = []
        var failed = false
        do {
            while let v = try parser.next() { values.append(v) }
            parser.append(bytes[cut...])
            while let v = try parser.next() { values.append(v) }
        } catch {
            failed = true
        }
        var whole = RESPParser()
        whole.append(bytes)
        var wholeValues: [RESPValue] = []
        var wholeFailed = false
        do {
            while let v = try whole.next() { wholeValues.append(v) }
        } catch {
            wholeFailed = true
        }
        precondition(
            failed == wholeFailed && (failed || values == wholeValues), "RESP parsed differently when split")
        var at = 0
        while at < bytes.count, let frame = try? RESP.scan(bytes, at: at) {
            precondition(frame.end > at && frame.payloadStart + frame.payloadCount <= bytes.count)
            at = frame.end
        }
    }
}

extension FuzzTargets {
    /// An error a user-facing reader may throw: a ``LockstepError`` of one line (what the CLI prints).
    static func expectOneLine(_ error: any Error, _ reader: String) {
        guard let error = error as? any LockstepError else {
            fatalError("the \(reader) threw something other than a LockstepError: \(error)")
        }
        precondition(error.message == error.message.oneLine, "the \(reader)'s error is not one line: \(error.message)")
    }

    /// A plan as `lockstep run` reads it: YAML, the rule, run-wide keys and every experiment parsed by
    /// its workload command's options (cells and their ids). An option list seen before is not parsed
    /// again (see ``UserInputReaders/plan(_:path:memoized:)``).
    static func plan(_ bytes: UnsafeRawBufferPointer) {
        do { _ = try UserInputReaders.plan(String(decoding: bytes, as: UTF8.self), memoized: true) } catch {
            expectOneLine(error, "plan reader")
        }
    }

    /// A lab file as every command with `--lab` reads it.
    static func lab(_ bytes: UnsafeRawBufferPointer) {
        do { _ = try UserInputReaders.lab(String(decoding: bytes, as: UTF8.self)) } catch {
            expectOneLine(error, "lab reader")
        }
    }

    /// `kubectl get pods -o json` as `lockstep lab from-kubernetes` reads it, and the lab file it writes
    /// read back.
    static func pods(_ bytes: UnsafeRawBufferPointer) {
        do { _ = try UserInputReaders.kubernetesPods(Data(bytes)) } catch {
            expectOneLine(error, "kubectl pod reader")
        }
    }

    /// The kernel's text the CPU meter and the placement's CPU view read: `/proc/stat` (two readings
    /// and the usage between them) and `/proc/cpuinfo`, `/proc/meminfo`, cgroup `cpu.max` and
    /// `memory.max` (the input cut in four).
    static func proc(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        let cut = text.index(text.startIndex, offsetBy: text.count / 2)
        let a = ProcStatSnapshot(parsing: String(text[..<cut]))
        let b = ProcStatSnapshot(parsing: String(text[cut...]))
        if let a, let b {
            for (x, y) in [(a, b), (b, a), (a, a)] {
                let usage = CPUUsage.between(x, y, ticksPerSecond: 100, wallSeconds: 1)
                if let percent = usage.utilizationPercent {
                    precondition(percent.isFinite, "utilization \(percent)")
                }
            }
        }
        let parts = text.split(separator: "\u{0}", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        func part(_ i: Int) -> String? { i < parts.count ? parts[i] : nil }
        let view = CPUView.parse(
            cpuinfo: parts[0], meminfo: part(1) ?? "", cgroupCPUMax: part(2), cgroupMemoryMax: part(3))
        _ = view.cpus
    }

    /// The MySQL client's readers, as the load generator and the SUT's setup read a server: the
    /// bytes split into packets and fed to the greeting parser, the login state machine and the
    /// answer reader in each of its modes, decoding everything.
    static func mysql(_ bytes: UnsafeRawBufferPointer) {
        var payloads: [UnsafeRawBufferPointer] = []
        var at = 0
        while let frame = MySQLPacket.scan(bytes, at: at) {
            precondition(frame.end > at && frame.end <= bytes.count)
            payloads.append(UnsafeRawBufferPointer(rebasing: bytes[frame.payloadStart..<frame.end]))
            at = frame.end
        }
        guard let first = payloads.first else { return }
        _ = try? MySQLGreeting.parse(Array(first))
        var login = MySQLLogin(MySQLCredentials(user: "u", password: "p", database: "d"))
        if (try? login.respond(toGreeting: Array(first))) != nil {
            for payload in payloads.dropFirst() {
                guard let step = try? login.next(Array(payload)), step != .done else { break }
            }
        }
        for expect in [MySQLResponseReader.Expect.query, .execute, .prepare] {
            for decode in [true, false] {
                var reader = MySQLResponseReader(expect: expect, decode: decode)
                for payload in payloads {
                    guard let complete = try? reader.consume(payload), !complete else { break }
                }
            }
        }
    }
}

#if LOCKSTEP_FUZZING
    import CLockstepSys

    /// SwiftPM links an executable's entry point as `<module>_main`; hand the process to libFuzzer.
    @_cdecl("Fuzz_main")
    public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
        var count = argc
        var args = argv
        return LLVMFuzzerRunDriver(&count, &args) { data, size in fuzzOne(data, size) }
    }

    /// The target `LOCKSTEP_FUZZ_TARGET` names (a key of ``FuzzTargets/all``).
    nonisolated(unsafe) private var selected: ((UnsafeRawBufferPointer) -> Void)? = nil

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        if selected == nil {
            let name = ProcessInfo.processInfo.environment["LOCKSTEP_FUZZ_TARGET"] ?? "wire"
            guard let target = FuzzTargets.all[name] else { fatalError("unknown LOCKSTEP_FUZZ_TARGET \(name)") }
            selected = target
        }
        selected!(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
#else

    /// Without the fuzzer: replays inputs (files, or every file in a folder) through every target,
    /// so a crash the fuzzer found can be checked by anyone: `lockstep-fuzz-replay fuzz/regressions`.
    @main
    struct FuzzReplay {
        static func main() throws {
            var count = 0
            for path in CommandLine.arguments.dropFirst() {
                var isFolder: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
                let files =
                    isFolder.boolValue
                    ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { "\(path)/\($0)" }
                    : [path]
                for file in files {
                    guard let data = FileManager.default.contents(atPath: file) else { continue }
                    for target in FuzzTargets.all.values { data.withUnsafeBytes { target($0) } }
                    count += 1
                }
            }
            print("replayed \(count) input(s) through \(FuzzTargets.all.keys.sorted().joined(separator: ", "))")
        }
    }
#endif
