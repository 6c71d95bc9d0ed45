import Foundation
import Shared
import Testing

@testable import Coordinator

/// The run's mailbox: answers nobody waits for any more, and links the run has let go of.
@Suite struct MailboxTests {
    static let second: Int64 = 1_000_000_000

    /// The mailbox judges deadlines on ticks, as the session's ticker sends them (every 50 ms here).
    static func ticking(_ box: Mailbox) -> Task<Void, Never> {
        let sink = box.sink
        return Task.detached {
            while !Task.isCancelled {
                sink.yield(.tick(atNs: MonotonicClock.now()))
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
        }
    }

    /// A placement abandoned with its step still answers later (a guest that was booting): that
    /// answer is dropped, and the next placement's own answer is the one its waiter gets (chaos found
    /// the late one taken for the next, and a second one failing the step as unexpected).
    @Test func aLateAnswerIsDroppedAndTheNextOneReachesItsWaiter() async throws {
        let box = Mailbox(heartbeatTimeoutNs: 60 * Self.second)
        box.register(0, name: "sut")
        box.dropLate(.placed, from: 0)
        let now = MonotonicClock.now()
        box.sink.yield(.message(0, .placed(Placed(mode: .kvm, guestHost: "late")), arrivedNs: now))
        box.sink.yield(.message(0, .placed(Placed(mode: .kvm, guestHost: "own")), arrivedNs: now))
        let (message, _) = try await box.next(from: 0, deadlineNs: now + Self.second)
        #expect(message == .placed(Placed(mode: .kvm, guestHost: "own")))
    }

    /// A late answer dropped while the mailbox settles after an abandoned step is no longer owed:
    /// the next answer is not dropped in its place.
    @Test func aLateAnswerSettledAwayIsNotOwedAnyMore() async throws {
        let box = Mailbox(heartbeatTimeoutNs: 60 * Self.second)
        box.register(0, name: "sut")
        box.dropLate(.placed, from: 0)
        let ticker = Self.ticking(box)
        defer { ticker.cancel() }
        box.sink.yield(.message(0, .placed(Placed(mode: .kvm, guestHost: "late")), arrivedNs: MonotonicClock.now()))
        await box.settle(forNs: 200_000_000)
        box.sink.yield(.message(0, .placed(Placed(mode: .kvm, guestHost: "own")), arrivedNs: MonotonicClock.now()))
        let (message, _) = try await box.next(from: 0, deadlineNs: MonotonicClock.now() + Self.second)
        #expect(message == .placed(Placed(mode: .kvm, guestHost: "own")))
    }

    /// A link the run forgot (a guest whose session ended) that still sends is not watched again:
    /// before, its next message put it back under watch with no name, and its silence failed the run
    /// as "agent #3: no heartbeat".
    @Test func aForgottenLinkThatStillSendsIsNotWatchedAgain() async throws {
        let box = Mailbox(heartbeatTimeoutNs: 3 * Self.second)
        box.register(0, name: "sut")
        box.register(1, name: "sut-docker-nat")
        box.forget(1)
        let now = MonotonicClock.now()
        box.sink.yield(.message(1, .heartbeat(Heartbeat(tNs: 0)), arrivedNs: now - 10 * Self.second))
        box.sink.yield(.message(0, .heartbeat(Heartbeat(tNs: 0)), arrivedNs: now))
        box.sink.yield(.tick(atNs: now))
        box.sink.yield(.message(0, .placed(Placed(mode: .native)), arrivedNs: now))
        let (message, _) = try await box.next(from: 0, deadlineNs: now + Self.second)
        #expect(message == .placed(Placed(mode: .native)))
    }
}
