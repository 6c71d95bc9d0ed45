import Foundation
import TestSupport
import Testing

@testable import Agent
@testable import Coordinator
@testable import Shared

/// fio's JSON from Debian's fio 3.33 (recorded here), decoded strictly; the step's command lines;
/// the command's and the plan's options.
@Suite struct FioTests {
    static func fixture(_ name: String) throws -> String {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        return try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    static let randread = FioSpec(job: FioJob(rw: .randread, blockSize: 4096, iodepth: 16))

    @Test func aRecordedRandomReadDecodesIntoItsResult() throws {
        let report = try FioReport.decode(try Self.fixture("fio-3.33-randread-4k-qd16.json"))
        #expect(report.version == "fio-3.33" && report.jobs.count == 1)
        let result = try FioResult(report: report, spec: Self.randread, command: "fio ...", prefillBytes: 0)
        let read = try #require(result.read)
        #expect(result.write == nil)
        #expect(read.iops > 1000 && read.bandwidthBytesPerSec > 0 && read.totalIOs > 0 && read.runtimeMs == 2001)
        #expect(read.clatPercentilesNs[50] != nil && read.clatPercentilesNs[99] != nil)
        #expect(read.clatPercentilesNs[50]! <= read.clatPercentilesNs[99]!)
        // The histogram from fio's json+ bins holds every completion fio counted.
        let histogram = read.latency.histogram()
        #expect(histogram.totalCount == read.totalIOs)
        #expect(abs(histogram.mean - read.clatMeanNs) / read.clatMeanNs < 0.01)
        #expect(result.diskUtilPercent != nil && result.device == "vda")
        #expect(result.completions == read.totalIOs)
    }

    @Test func aMixedJobHasBothDirections() throws {
        let report = try FioReport.decode(try Self.fixture("fio-3.33-randrw70-4k-qd8x2.json"))
        let spec = FioSpec(job: FioJob(rw: .randrw, blockSize: 4096, iodepth: 8, numjobs: 2, readPercent: 70))
        let result = try FioResult(report: report, spec: spec, command: "fio", prefillBytes: 0)
        let (read, write) = (try #require(result.read), try #require(result.write))
        // 70/30 by count, within a few percent.
        let share = Double(read.totalIOs) / Double(read.totalIOs + write.totalIOs)
        #expect(abs(share - 0.7) < 0.05, "\(share)")
        let ratio = try #require(FioWorkload.littlesLaw(result, spec))
        #expect(ratio > 0.5 && ratio < 1.5, "\(ratio)")
    }

    @Test func fiosOwnErrorIsAFailureNotAResultEvenWithItsPreamble() throws {
        // fio wrote a warning line before its JSON and reported error 1 for the job.
        let report = try FioReport.decode(try Self.fixture("fio-3.33-error.json"))
        #expect(report.jobs.first?.error == 1)
        let error = #expect(throws: FioReportError.self) {
            try FioResult(
                report: report, spec: FioSpec(job: FioJob(rw: .read, blockSize: 4096, iodepth: 1)), command: "",
                prefillBytes: 0)
        }
        #expect(error?.message.contains("failed with error 1") == true)
    }

    @Test(arguments: [
        ("", "no JSON"), ("fio: file not found\n", "no JSON"), ("{\"jobs\": []}", "fio version"),
    ])
    func badOutputIsOneLine(text: String, says: String) {
        let error = #expect(throws: FioReportError.self) { try FioReport.decode(text) }
        #expect(error?.message.contains(says) == true, "\(error?.message ?? "")")
    }

    @Test func truncatedJSONIsAnErrorNotZeros() throws {
        let error = #expect(throws: FioReportError.self) {
            try FioReport.decode(try Self.fixture("fio-3.33-truncated.json"))
        }
        #expect(error?.message.contains("not valid") == true, "\(error?.message ?? "")")
    }

    @Test func aJobThatMovedNothingIsRefused() throws {
        var report = try FioReport.decode(try Self.fixture("fio-3.33-randread-4k-qd16.json"))
        report.jobs[0].read.totalIOs = 0
        #expect(throws: FioReportError.self) {
            try FioResult(report: report, spec: Self.randread, command: "", prefillBytes: 0)
        }
        report.jobs[0].read.totalIOs = 10
        report.jobs[0].read.shortIOs = 2
        let error = #expect(throws: FioReportError.self) {
            try FioResult(report: report, spec: Self.randread, command: "", prefillBytes: 0)
        }
        #expect(error?.message.contains("short") == true)
    }

    @Test func theStepsCommandLineIsTimeBasedWithTheWarmUpAsRamp() {
        let spec = FioSpec(
            job: FioJob(rw: .randrw, blockSize: 4096, iodepth: 32, numjobs: 8, readPercent: 70), size: 1 << 30)
        let args = FioCommandLine.job(
            spec, timing: StepTiming(warmupNs: 500_000_000, durationNs: 2_000_000_000), file: "/d/f",
            output: "/d/o.json")
        for expected in [
            "--rw=randrw", "--bs=4096", "--iodepth=32", "--numjobs=8", "--rwmixread=70", "--time_based",
            "--ramp_time=500ms", "--runtime=2000ms", "--group_reporting", "--filename=/d/f", "--size=1073741824",
            "--ioengine=libaio", "--direct=1", "--output-format=json+", "--output=/d/o.json",
        ] {
            #expect(args.contains(expected), "\(expected) missing from \(args)")
        }
        let prefill = FioCommandLine.prefill(spec, file: "/d/f", output: "/d/p.json")
        #expect(prefill.contains("--rw=write") && prefill.contains("--bs=1m") && !prefill.contains("--time_based"))
    }

    @Test func theCommandRunsThePapersJobsOrASweepOfOneJob() throws {
        let paper = try FioOptions.parse([]).specs()
        #expect(paper.map(\.job.name) == FioJob.paper.map(\.name) && paper.count == 8)
        #expect(paper.last?.job.readPercent == 70 && paper.last?.job.numjobs == 8)
        let sweep = try FioOptions.parse(["--rw", "randread", "--bs", "4KiB", "--iodepth", "1,4,16", "--size", "64MiB"])
            .specs()
        #expect(sweep.map(\.job.iodepth) == [1, 4, 16] && sweep.allSatisfy { $0.size == 64 << 20 })
        #expect(sweep.map(\.stepName) == ["fio-randread-4k-qd1", "fio-randread-4k-qd4", "fio-randread-4k-qd16"])
        #expect(throws: (any Error).self) { try FioOptions.parse(["--rw", "randread", "--iodepth", "0"]) }
        #expect(throws: (any Error).self) { try FioOptions.parse(["--jobs", "single"]) }
        #expect(throws: (any Error).self) { try FioOptions.parse(["--rw", "read", "--rwmixread", "70"]) }
        #expect(throws: (any Error).self) { try FioOptions.parse(["--storage-dir", "relative"]) }
        #expect(throws: (any Error).self) {
            try FioOptions.parse(["--storage", "volume", "--mysql-storage", "layered"])
        }
        let layered = try FioOptions.parse(["--mysql-storage", "layered"])
        let placement = try layered.placement.placement()
        #expect(layered.placement.containerStorage == .layered && placement.storage == .layered)
    }

    @Test func aPlanNamesFioAndTheStorageRunWide() throws {
        let scratch = Scratch()
        let path = scratch.path + "/plan.yaml"
        try """
        modes: [native, docker-host]
        storage: layered
        storage-dir: /srv/lockstep
        vm-disk-format: qcow2
        experiments:
          - fio: {rw: randread, bs: 4KiB, iodepth: [1, 16], size: 64MiB, duration: 2s}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let plan = try PlanFile.load(path)
        #expect(
            plan.cells.map(\.id) == [
                "fio-randread-4k-qd1-native", "fio-randread-4k-qd1-docker-host", "fio-randread-4k-qd16-native",
                "fio-randread-4k-qd16-docker-host",
            ])
        #expect(plan.cells.allSatisfy { $0.step.placement.storageDir == "/srv/lockstep" })
        #expect(plan.runWide.containerStorage == .layered && plan.vm.diskFormat == .qcow2)
        // An experiment may set its own storage: a cell per value, named by it in the container modes.
        try """
        modes: [docker-nat]
        experiments:
          - fio: {rw: randread, image: x}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: FileError.self) { try PlanFile.load(path) }
        try """
        modes: [docker-nat]
        experiments:
          - mysql: {threads: 2, storage: [volume, layered]}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let axis = try PlanFile.load(path)
        #expect(axis.cells.map(\.id) == ["mysql-t2-docker-nat-volume", "mysql-t2-docker-nat-layered"])
        #expect(axis.cells.map(\.step.placement.storage) == [.volume, .layered])
    }

    @Test func theStorageFolderIsCheckedBeforeAnyStep() throws {
        let scratch = Scratch()
        var place = Place(mode: .native, checkOnly: true, storageDir: scratch.path + "/none")
        #expect(StorageCheck.problems(place, stateDirectory: scratch.path).first?.contains("does not exist") == true)
        place.storageDir = scratch.path
        #expect(StorageCheck.problems(place, stateDirectory: scratch.path).isEmpty)
        place.storageBytes = 1 << 62
        #expect(StorageCheck.problems(place, stateDirectory: scratch.path).first?.contains("MiB free") == true)
        // The state folder stands in for a missing --storage-dir.
        place.storageDir = nil
        place.storageBytes = 1 << 20
        #expect(StorageCheck.problems(place, stateDirectory: scratch.path).isEmpty)
    }

    @Test func aFioStepRunsOnTheSUTAloneAndKeepsItsData() {
        #expect(FioWorkload.shape.needsPeers == false && FioWorkload.shape.usesStorage)
        #expect(MySQLWorkload.shape.usesStorage && !RRWorkload.shape.usesStorage)
        #expect(FioWorkload.storageNeed(of: Self.randread) == StorageNeed(bytes: 64 << 20, directIO: true))
        let disk = GuestDisk(path: "/s/d.qcow2", format: .qcow2, cache: .none, aio: .native, device: false)
        #expect(disk.drive == "file=/s/d.qcow2,if=virtio,format=qcow2,cache=none,aio=native")
        #expect(disk.label == "qcow2,cache=none,aio=native")
        #expect(GuestDisk.deviceProblem("/etc/hostname")?.contains("not a block device") == true)
    }
}
