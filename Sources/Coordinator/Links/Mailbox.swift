import NIOCore
import Shared

/// Everything the agents send during a run arrives in one ordered mailbox, so a wait on one
/// agent still sees another agent dying, failing or going silent. One consumer: the run.
final class Mailbox {
    /// An event from a link or the ticker.
    enum Event: Sendable {
        case message(Int, WireMessage, arrivedNs: Int64)
        case lost(Int, WireError)
        /// The ticker's beat, stamped when it was sent: silence is judged at that time, so ticks read
        /// late (nobody waited during a plan's cooldown) do not count the queued heartbeats as missing.
        case tick(atNs: Int64)
    }

    let events: AsyncStream<Event>
    let sink: AsyncStream<Event>.Continuation
    private var iterator: AsyncStream<Event>.AsyncIterator
    private var pending: [Int: [(WireMessage, Int64)]] = [:]
    private var lastHeard: [Int: Int64] = [:]
    private var dead: [Int: WireError] = [:]
    private var names: [Int: String] = [:]
    /// Answers still owed to requests whose waiter gave up (a placement abandoned with its step):
    /// dropped when they come, instead of reaching whoever waits next on that link.
    private var owed: [Int: [WireMessage.Kind: Int]] = [:]
    /// Silence after which an agent counts as hung.
    let heartbeatTimeoutNs: Int64
    /// The link whose agent reported the failure last thrown, if the failure was an agent's report.
    private(set) var lastFailureOrigin: Int?
    /// Called for every interval sample, with the link index.
    var onSample: (Int, IntervalSample) -> Void = { _, _ in }

    init(heartbeatTimeoutNs: Int64) {
        (events, sink) = AsyncStream<Event>.makeStream()
        iterator = events.makeAsyncIterator()
        self.heartbeatTimeoutNs = heartbeatTimeoutNs
    }

    /// Registers a link so its silence is watched.
    func register(_ index: Int, name: String) {
        names[index] = name
        lastHeard[index] = MonotonicClock.now()
    }

    /// Stops watching a link that never became an agent of the session (refused it as busy).
    func forget(_ index: Int) {
        names[index] = nil
        lastHeard[index] = nil
        pending[index] = nil
        dead[index] = nil
    }

    /// After a step was abandoned: drops every message queued or arriving for `ns` (what the step's
    /// agents still send for it), noting lost links and heartbeats as usual.
    func settle(forNs ns: Int64) async {
        // A late answer dropped here is no longer owed.
        for (from, queue) in pending { for (message, _) in queue { _ = isLate(message, from: from) } }
        pending.removeAll()
        let deadline = MonotonicClock.now() + ns
        while MonotonicClock.now() < deadline, let event = await iterator.next() {
            switch event {
            case .message(let from, let message, let arrived):
                _ = isLate(message, from: from)
                if names[from] != nil { lastHeard[from] = arrived }
            case .lost(let from, let error):
                if dead[from] == nil, names[from] != nil { dead[from] = error }
            case .tick: continue
            }
        }
    }

    /// Reads what has arrived up to the ticker's next tick from now (at most about 100 ms), so that a
    /// link that closed while nobody waited counts as dead; messages are queued as usual.
    func catchUp() async {
        let since = MonotonicClock.now()
        while let event = await iterator.next() {
            switch event {
            case .message(let from, let message, let arrived):
                // A forgotten link (an ended guest, a replaced connection) is not watched again.
                guard names[from] != nil else { continue }
                lastHeard[from] = arrived
                switch message {
                case .heartbeat: continue
                case .sample(let sample): onSample(from, sample)
                case _ where isLate(message, from: from): continue
                default: pending[from, default: []].append((message, arrived))
                }
            case .lost(let from, let error):
                if dead[from] == nil, names[from] != nil { dead[from] = error }
            case .tick(let at):
                if at >= since { return }
            }
        }
    }

    /// The next `kind` from link `index` answers a request nobody waits for any more: drop it.
    func dropLate(_ kind: WireMessage.Kind, from index: Int) { owed[index, default: [:]][kind, default: 0] += 1 }

    /// Whether `message` from `index` is a late answer to drop (counting it off).
    private func isLate(_ message: WireMessage, from index: Int) -> Bool {
        guard let count = owed[index]?[message.kind], count > 0 else { return false }
        owed[index]![message.kind] = count - 1
        return true
    }

    /// Renames a link once its agent told its name.
    func rename(_ index: Int, to name: String) { names[index] = name }

    /// Whether the link is still usable.
    func isAlive(_ index: Int) -> Bool { dead[index] == nil && names[index] != nil }

    /// The next message from link `index` other than heartbeats and samples, with its arrival time.
    /// Throws when it does not come before `deadlineNs`, when any watched link fails, dies or goes
    /// silent, or when an agent reports a failure. With `onlyThis`, trouble on other links is noted, not thrown.
    func next(from index: Int, deadlineNs: Int64, onlyThis: Bool = false) async throws -> (WireMessage, Int64) {
        let concerns: (Int) -> Bool = { $0 == index || !onlyThis }
        guard let (_, message, arrived) = try await receive(from: [index], deadlineNs: deadlineNs, concerns: concerns)
        else { throw WireError(.timeout, "\(label(index)): no answer in time") }
        return (message, arrived)
    }

    /// The next message from any link in `indices` (other than heartbeats and samples), with the
    /// link and its arrival time; `nil` when none comes before `deadlineNs`. Throws like
    /// ``next(from:deadlineNs:onlyThis:)`` when a watched link fails, dies or goes silent.
    func next(fromAny indices: Set<Int>, deadlineNs: Int64) async throws -> (Int, WireMessage, Int64)? {
        try await receive(from: indices, deadlineNs: deadlineNs, concerns: { _ in true })
    }

    /// The one event loop: the earliest queued message from `wanted`, else events until one comes
    /// (`nil` at the deadline). Heartbeats and samples are consumed on the way; messages for other
    /// links are queued; a failure report, a lost link or a silent agent throws when `concerns` says
    /// that link's trouble is the caller's, and is noted (a lost or silent link stays dead) otherwise.
    private func receive(from wanted: Set<Int>, deadlineNs: Int64, concerns: (Int) -> Bool) async throws
        -> (Int, WireMessage, Int64)?
    {
        for index in wanted.sorted() {
            if let error = dead[index] { throw error }
        }
        if let (index, queue) = pending.filter({ wanted.contains($0.key) && !$0.value.isEmpty }).min(by: {
            $0.value[0].1 < $1.value[0].1
        }) {
            pending[index] = Array(queue.dropFirst())
            return (index, queue[0].0, queue[0].1)
        }
        while let event = await iterator.next() {
            switch event {
            case .message(let from, let message, let arrived):
                // What a forgotten link still sends (an ended guest, a replaced connection) is dropped:
                // watching it again would time it out as a nameless agent.
                guard names[from] != nil else { continue }
                lastHeard[from] = arrived
                switch message {
                case .heartbeat:
                    continue
                case .sample(let sample):
                    onSample(from, sample)
                    continue
                case .failure(let failure):
                    guard concerns(from) else { continue }
                    lastFailureOrigin = from
                    throw WireError(failure.code, "\(label(from)): \(failure.message)")
                case _ where isLate(message, from: from):
                    continue
                case _ where wanted.contains(from):
                    return (from, message, arrived)
                default:
                    pending[from, default: []].append((message, arrived))
                }
            case .lost(let from, let error):
                guard dead[from] == nil, names[from] != nil else { continue }
                let named = WireError(error.code, "\(label(from)): \(error.message)")
                dead[from] = named
                if concerns(from) { throw named }
            case .tick(let at):
                let now = MonotonicClock.now()
                for (link, heard) in lastHeard where dead[link] == nil && at - heard > heartbeatTimeoutNs {
                    let error = WireError(
                        .timeout,
                        "\(label(link)): no heartbeat for \(heartbeatTimeoutNs / 1_000_000_000) s (agent hung or unreachable)"
                    )
                    dead[link] = error
                    if concerns(link) { throw error }
                }
                if now > deadlineNs { return nil }
            }
        }
        throw WireError(.connectionLost, "mailbox closed")
    }

    /// A failure link `index` reports within `ns`, if any; other messages stay queued. Used to find
    /// the cause when one side's failure (a lost connection) is the effect of the other's.
    func failure(from index: Int, within ns: Int64) async -> WireError? {
        guard dead[index] == nil else { return nil }
        let deadline = MonotonicClock.now() + ns
        while MonotonicClock.now() < deadline {
            do {
                _ = try await next(from: index, deadlineNs: deadline, onlyThis: true)
            } catch let error as WireError {
                return lastFailureOrigin == index && error.code != .timeout ? error : nil
            } catch {
                return nil
            }
        }
        return nil
    }

    private func label(_ index: Int) -> String { "agent \(names[index] ?? "#\(index)")" }
}
