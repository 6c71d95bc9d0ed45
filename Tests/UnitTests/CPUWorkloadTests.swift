import Foundation
import TestSupport
import Testing

@testable import Agent
@testable import Coordinator
@testable import Shared

/// hpcc's output from Debian's hpcc 1.5.0f (recorded here) read strictly; the problem sized from the
/// placement's memory; what the placement's CPUs look like and their peak; the corpus; the kvm
/// guest's CPU settings; the commands' and the plan's options.
@Suite struct CPUWorkloadTests {
    static func fixture(_ name: String) throws -> String {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        return try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    static let view = CPUView.parse(
        cpuinfo: """
            processor\t: 0
            model name\t: Intel(R) Xeon(R) CPU E5-2665 0 @ 2.40GHz
            flags\t\t: fpu sse sse2 avx avx2 fma hypervisor
            cpu MHz\t\t: 2394.000
            physical id\t: 0
            siblings\t: 2
            cpu cores\t: 2

            processor\t: 1
            model name\t: Intel(R) Xeon(R) CPU E5-2665 0 @ 2.40GHz
            flags\t\t: fpu sse sse2 avx avx2 fma hypervisor
            physical id\t: 0
            siblings\t: 2
            cpu cores\t: 2

            """, meminfo: "MemTotal:       8000000 kB\nMemFree:        1000 kB\nMemAvailable:    4000000 kB\n",
        cgroupCPUMax: "150000 100000\n", cgroupMemoryMax: "max\n")

    @Test func aRecordedRunParsesIntoItsResult() throws {
        let output = try HpccOutput.parse(try Self.fixture("hpcc-1.5.0f-n1000-2ranks.txt"))
        #expect(output.version == "1.5.0f")
        #expect(output.residualPassed && output.residual > 0 && output.residual < 16)
        let result = try HpccResult(
            output: output, engine: "hpcc 1.5.0f", blas: "openblas-serial", mpi: "Open MPI 4.1.4",
            command: "mpirun -np 2 hpcc", ranks: 2, seconds: 1.5, cpu: Self.view)
        #expect(result.n == 1000 && result.nb == 80 && result.p == 1 && result.q == 2)
        #expect(result.hplGflops > 0 && result.hplSeconds > 0)
        // HPL_Tflops is in TFLOPS: lockstep reports GFLOPS.
        #expect(abs(result.hplGflops - (try output.number("HPL_Tflops")) * 1000) < 1e-9)
        #expect(result.streamSingle.triad > 0 && result.streamPerProcess.triad > 0)
        #expect(result.streamPlacement.triad == result.streamPerProcess.triad * 2)
        #expect(result.randomAccessMPI > 0 && result.randomAccessSingle > 0 && result.randomAccessStar > 0)
        // The peak: 2 CPUs x 2.4 GHz (the model's base clock) x 16 (AVX2 with FMA).
        #expect(result.peakGflops == 2 * 2.4 * 16)
        #expect(abs(result.hplPeakPercent! - 100 * result.hplGflops / 76.8) < 1e-9)
    }

    @Test func aFailedResidualCheckIsAnErrorNotAResult() throws {
        let text = try Self.fixture("hpcc-1.5.0f-n1000-2ranks.txt").replacingOccurrences(
            of: "...... PASSED", with: "...... FAILED")
        let output = try HpccOutput.parse(text)
        #expect(!output.residualPassed)
        #expect(throws: HpccOutputError.self) {
            try HpccResult(
                output: output, engine: "hpcc", blas: "", mpi: "", command: "", ranks: 2, seconds: 1, cpu: Self.view)
        }
    }

    @Test(arguments: [
        ("End of Summary section.", "", "no summary"), ("StarSTREAM_Triad=", "StarSTREAM_Triad_=", "StarSTREAM_Triad"),
        ("HPL_Tflops=", "HPL_Tflops=nan", "HPL_Tflops"), ("||Ax-b||_oo/(eps*", "||Ax-c||", "residual"),
    ])
    func aTruncatedOrAlteredFileNamesWhatIsMissing(change: (String, String, String)) throws {
        var text = try Self.fixture("hpcc-1.5.0f-n1000-2ranks.txt")
        if change.0 == "HPL_Tflops=" {
            text = text.replacingOccurrences(of: #"HPL_Tflops=[0-9.e+-]+"#, with: change.1, options: .regularExpression)
        } else {
            text = text.replacingOccurrences(of: change.0, with: change.1)
        }
        do {
            let output = try HpccOutput.parse(text)
            _ = try HpccResult(
                output: output, engine: "", blas: "", mpi: "", command: "", ranks: 2, seconds: 1, cpu: Self.view)
            Issue.record("parsed an altered file")
        } catch let error as HpccOutputError {
            #expect(error.message.contains(change.2), "\(error.message)")
        }
    }

    @Test func theRanksMustBeTheOnesAskedFor() throws {
        let output = try HpccOutput.parse(try Self.fixture("hpcc-1.5.0f-n1000-2ranks.txt"))
        #expect(throws: HpccOutputError.self) {
            try HpccResult(
                output: output, engine: "", blas: "", mpi: "", command: "", ranks: 4, seconds: 1, cpu: Self.view)
        }
    }

    @Test func whatThePlacementSeesIsReadFromItsFiles() {
        let v = Self.view
        #expect(v.model.hasPrefix("Intel(R) Xeon(R)") && v.baseMHz == 2400 && v.currentMHz == 2394)
        #expect(v.isa == .avx2 && v.flags == ["avx", "avx2", "fma", "hypervisor", "sse2"])
        #expect(v.onlineCPUs == 2 && v.sockets == 1 && v.coresPerSocket == 2 && v.threadsPerCore == 1)
        #expect(v.quotaCPUs == 1.5 && v.usableCPUs == 2)
        #expect(v.memoryAvailableBytes == 4_000_000 * 1024)
        let limited = CPUView.parse(
            cpuinfo: "processor : 0\nflags : sse2\n", meminfo: "MemAvailable: 4000000 kB\n", cgroupCPUMax: "max 100000",
            cgroupMemoryMax: "1073741824")
        #expect(limited.isa == .sse2 && limited.quotaCPUs == nil && limited.memoryAvailableBytes == 1 << 30)
        #expect(limited.peakGflops(cores: 1) == nil)
    }

    @Test func theWidestISAAndItsFlopsPerCycle() {
        #expect(VectorISA(flags: ["sse2", "avx", "avx2", "avx512f"]) == .avx512)
        #expect(VectorISA(flags: ["sse2", "avx"]) == .avx && VectorISA(flags: []) == VectorISA.none)
        #expect(VectorISA.avx512 > .avx2 && VectorISA.avx2 > .sse2)
        #expect(
            VectorISA.avx2.doubleFlopsPerCycle(fma: true) == 16 && VectorISA.sse2.doubleFlopsPerCycle(fma: false) == 4)
    }

    @Test func theProblemIsSizedFromMemoryAndRefusedWhenItDoesNotFit() throws {
        let fromMemory = try HpccProblem(HpccSpec(memoryFraction: 0.25, nb: 100), ranks: 6, availableBytes: 8 << 30)
        // sqrt(0.25 x 8 GiB / 8) = 16384, down to a multiple of NB.
        #expect(fromMemory.n == 16300 && fromMemory.p == 2 && fromMemory.q == 3)
        #expect(try HpccProblem(HpccSpec(n: 1000), ranks: 7, availableBytes: 1 << 30).p == 1)
        do {
            _ = try HpccProblem(HpccSpec(n: 50_000), ranks: 2, availableBytes: 2 << 30)
            Issue.record("a 20 GB matrix fit in 2 GiB")
        } catch let error as WireError {
            #expect(error.message.contains("N=50000 needs 20980 MiB") && error.message.contains("2048 MiB"))
        }
        let input = fromMemory.inputFile.split(separator: "\n").map { $0.split(separator: " ").first ?? "" }
        #expect(input[5] == "16300" && input[7] == "100" && input[10] == "2" && input[11] == "3")
    }

    @Test func theCorpusIsTheSameForTheSameSeedAndMixesTextAndBinary() {
        var a: [UInt8] = []
        Corpus.generate(seed: 7, size: 300_000) { a += $0 }
        #expect(a.count == 300_000)
        #expect(Corpus.sha256(seed: 7, size: 300_000) == Corpus.sha256(seed: 7, size: 300_000))
        #expect(Corpus.sha256(seed: 7, size: 300_000) != Corpus.sha256(seed: 8, size: 300_000))
        let text = a[0..<Corpus.blockSize]
        #expect(text.allSatisfy { $0 == 10 || $0 == 32 || $0 == 44 || $0 == 46 || (97...122).contains($0) })
        let binary = a[Corpus.blockSize..<(2 * Corpus.blockSize)]
        #expect(Set(binary).count > 200)
        // The digest recorded when the generator was written: the corpus is the same on every machine and build.
        #expect(Corpus.sha256(seed: 1, size: 1 << 20) == Self.seedOneDigest)
    }

    /// sha256 of the 1 MiB corpus of seed 1 (recorded when the generator was written).
    static let seedOneDigest = "80ea312b1387e2d792e3d3861b1882c7dcb14958c254e6b0930ed5b5c5e3a33f"

    @Test func theEngineRunsWithoutTheShellsMathLibraryTuningAndSaysWhichKernelsItGot() {
        let (env, removed) = HpccEngine.environment([
            "PATH": "/usr/bin", "OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512", "OMP_NUM_THREADS": "8",
            "GOTO_NUM_THREADS": "4", "HOME": "/root",
        ])
        #expect(removed == ["GOTO_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"])
        #expect(env == ["PATH": "/usr/bin", "HOME": "/root", "OPENBLAS_VERBOSE": "2"])
        #expect(HpccEngine.blasCore(log: "Core: SkylakeX\nCore: SkylakeX\n[vm:1] help message\n") == "SkylakeX")
        #expect(HpccEngine.blasCore(log: "nothing said\n") == nil)
        // qemu's generic model: OpenBLAS is told its SSE3 kernels; a CPU with AVX picks its own.
        var generic = Self.view
        generic.isa = .sse2
        generic.flags = ["hypervisor", "pni", "sse2"]
        #expect(HpccEngine.openBLASCore(generic) == "Prescott" && HpccEngine.openBLASCore(Self.view) == nil)
    }

    @Test func theGuestCPUSettingsReachQemu() throws {
        #expect(VMTopology("1x2x1") == VMTopology(sockets: 1, cores: 2, threads: 1))
        #expect(VMTopology("2x0x1") == nil && VMTopology("2x2") == nil)
        var vm = VMSettings(cpus: 2)
        vm.topology = VMTopology("2x1x1")
        #expect(vm.problems().isEmpty && KVMGuest.smp(vm) == "2,sockets=2,cores=1,threads=1")
        vm.topology = VMTopology("1x4x1")
        #expect(vm.problems().first?.contains("holds 4 vCPUs") == true)
        #expect(VMCPUModel.host.qemuModel(kvm: true) == "host" && VMCPUModel.host.qemuModel(kvm: false) == "max")
        #expect(VMCPUModel.default.qemuModel(kvm: false) == "qemu64")
    }

    @Test func theCommandsParseTheirOptions() throws {
        let h = try HpccOptions.parse(["--n", "500,1000", "--mode", "native,kvm", "--vm-cpu-model", "default"])
        let steps = try h.steps()
        #expect(steps.count == 4 && steps.allSatisfy { $0.workload.shape == .sutOnly })
        #expect(steps[0].workload.spec(HpccSpec.self)?.n == 500 && steps[1].placement.vmCPUModel == .default)
        #expect(steps[0].runBudgetNs == 3600 * 1_000_000_000)
        #expect(throws: (any Error).self) { try HpccOptions.parse(["--memory-fraction", "0.95"]) }
        #expect(throws: (any Error).self) { try HpccOptions.parse(["--vm-cpus", "2", "--vm-topology", "1x1x1"]) }
        let c = try CompressOptions.parse(["--threads", "1,2", "--level", "2", "--size", "32MiB"])
        let specs = c.specs()
        #expect(specs.count == 2 && specs[1].threads == 2 && specs[1].size == 32 << 20 && specs[0].tool == .xz)
        #expect(throws: (any Error).self) { try CompressOptions.parse(["--level", "10"]) }
    }
}
