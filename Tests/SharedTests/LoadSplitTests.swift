import Testing

@testable import Shared

/// How several peers share a step's load: evenly, the first ones one more, no empty shares.
@Suite struct LoadSplitTests {
    @Test func unitsSpreadEvenlyWithTheFirstPeersTakingTheRemainder() {
        let rr = Workload(RRSpec(proto: .tcp, flows: 7))
        #expect(rr.split(among: 3).map(\.loadUnits) == [3, 2, 2])
        #expect(rr.split(among: 1) == [rr])
        // One flow over three peers: one share; the others sit the step out.
        #expect(Workload(RRSpec(proto: .udp, flows: 1)).split(among: 3).map(\.loadUnits) == [1])
        #expect(Workload(MySQLSpec(threads: 10)).split(among: 4).map(\.loadUnits) == [3, 3, 2, 2])
        #expect(Workload(StreamSpec(streams: 2)).split(among: 2).map(\.loadUnits) == [1, 1])
    }

    @Test func redisPeersGetDisjointKeySlicesAndTheirPartOfTheCapAndThreads() {
        let whole = Workload(RedisSpec(connections: 7, threads: 2, keys: 1000))
        let shares = whole.split(among: 3).compactMap { if let s = $0.spec(RedisSpec.self) { s } else { nil } }
        #expect(shares.map(\.connections) == [3, 2, 2])
        #expect(shares.map(\.keys) == [334, 333, 333])
        #expect(shares.map(\.threads) == [1, 1, 1])
        #expect(shares.map(\.partition) == (0..<3).map { KeyPartition(index: $0, count: 3) })
        // Local key j of peer i is key j*3+i: no two peers name the same key.
        let names = shares.flatMap { s in (0..<334).map { s.partition!.key($0) } }
        #expect(Set(names).count == names.count)
        // The whole spec (the SUT's, run.json's) has no slice.
        if let s = whole.spec(RedisSpec.self) { #expect(s.partition == nil) }
    }
}
