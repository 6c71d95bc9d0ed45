import Shared

/// hpcc's problem for a placement: HPL's order N (given, or from a share of the memory the
/// placement may use, rounded down to a multiple of NB), the P x Q grid of the ranks, and the input
/// file `hpccinf.txt` that says so (Debian's example file with these values; the rest as shipped).
struct HpccProblem: Equatable, Sendable {
    var n: Int
    var nb: Int
    var p: Int
    var q: Int

    /// Bytes HPL's matrix takes over all ranks (8 N^2), and what the suite needs with its
    /// workspace: the matrix plus a tenth.
    var matrixBytes: Int64 { 8 * Int64(n) * Int64(n) }
    var neededBytes: Int64 { matrixBytes + matrixBytes / 10 }

    /// The problem of `spec` for `ranks` ranks in `availableBytes`; throws one line with the numbers
    /// when it does not fit.
    init(_ spec: HpccSpec, ranks: Int, availableBytes: Int64) throws {
        nb = spec.nb
        (p, q) = Self.grid(ranks)
        if let n = spec.n {
            self.n = n
        } else {
            let fill = Double(availableBytes) * spec.memoryFraction / 8
            self.n = max(Int(fill.squareRoot()) / nb * nb, nb)
        }
        guard neededBytes <= availableBytes else {
            throw WireError(
                .badStep,
                "hpcc's problem does not fit: N=\(n) needs \(neededBytes >> 20) MiB (HPL's matrix \(matrixBytes >> 20) MiB and a tenth), "
                    + "the placement may use \(availableBytes >> 20) MiB: lower --n or --memory-fraction")
        }
    }

    /// P x Q = ranks with P <= Q as close as they get (HPL runs best on a near-square, flat grid).
    static func grid(_ ranks: Int) -> (Int, Int) {
        var p = Int(Double(ranks).squareRoot())
        while p > 1 && ranks % p != 0 { p -= 1 }
        return (max(p, 1), ranks / max(p, 1))
    }

    /// `hpccinf.txt`: one N, one NB, one P x Q grid, HPL's usual panel settings.
    var inputFile: String {
        """
        HPLinpack benchmark input file (written by lockstep)
        Innovative Computing Laboratory, University of Tennessee
        HPL.out      output file name (if any)
        8            device out (6=stdout,7=stderr,file)
        1            # of problems sizes (N)
        \(n)         Ns
        1            # of NBs
        \(nb)        NBs
        0            PMAP process mapping (0=Row-,1=Column-major)
        1            # of process grids (P x Q)
        \(p)         Ps
        \(q)         Qs
        16.0         threshold
        1            # of panel fact
        2            PFACTs (0=left, 1=Crout, 2=Right)
        1            # of recursive stopping criterium
        4            NBMINs (>= 1)
        1            # of panels in recursion
        2            NDIVs
        1            # of recursive panel fact.
        1            RFACTs (0=left, 1=Crout, 2=Right)
        1            # of broadcast
        1            BCASTs (0=1rg,1=1rM,2=2rg,3=2rM,4=Lng,5=LnM)
        1            # of lookahead depth
        1            DEPTHs (>=0)
        2            SWAP (0=bin-exch,1=long,2=mix)
        64           swapping threshold
        0            L1 in (0=transposed,1=no-transposed) form
        0            U  in (0=transposed,1=no-transposed) form
        1            Equilibration (0=no,1=yes)
        8            memory alignment in double (> 0)
        ##### This line (no. 32) is ignored (it serves as a separator). ######
        0                      		Number of additional problem sizes for PTRANS
        1200 10000 30000        	values of N
        0                       	number of additional blocking sizes for PTRANS
        40 9 8 13 13 20 16 32 64       	values of NB

        """
    }
}
