import Foundation
import NIOCore

/// Frame layout constants of the control protocol.
package enum WireFrame {
    /// Type byte plus the `UInt32` payload length.
    package static let headerSize = 5
    /// Default largest payload an endpoint accepts (histograms and log batches fit well inside).
    package static let defaultMaxPayload = 8 * 1024 * 1024
}

/// Decodes frames into ``WireMessage``s. Works in a pipeline and outside one: a half frame
/// yields `nil`, never an error; a bad frame throws a ``WireError`` carrying its first bytes.
package struct WireMessageDecoder: NIOSingleStepByteToMessageDecoder {
    /// Decoded messages.
    package typealias InboundOut = WireMessage

    /// Largest payload accepted; a larger length prefix is an error before any payload is read.
    package let maxPayload: Int

    /// Creates a decoder that refuses payloads above `maxPayload` bytes.
    package init(maxPayload: Int = WireFrame.defaultMaxPayload) {
        self.maxPayload = maxPayload
    }

    /// Decodes one frame; `nil` until a whole frame is buffered.
    package mutating func decode(buffer: inout ByteBuffer) throws -> WireMessage? {
        guard buffer.readableBytes >= WireFrame.headerSize,
            let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self)
        else { return nil }
        let header = Array(buffer.readableBytesView.prefix(WireFrame.headerSize))
        guard let kind = WireMessage.Kind(rawValue: type) else {
            throw WireError(.malformedFrame, "unknown message type \(type)", bytes: header)
        }
        guard Int(length) <= maxPayload else {
            throw WireError(
                .frameTooLarge, "frame of \(length) bytes exceeds the limit of \(maxPayload)", bytes: header)
        }
        guard buffer.readableBytes >= WireFrame.headerSize + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: WireFrame.headerSize)
        let payload = Data(buffer.readBytes(length: Int(length))!)
        do {
            return try WireMessage.decode(kind: kind, payload: payload)
        } catch {
            throw WireError(
                .malformedFrame, "bad \(kind) payload: \(error)", bytes: header + Array(payload.prefix(64)))
        }
    }

    /// At end of stream: a trailing half frame is dropped, not an error.
    package mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> WireMessage? {
        try decode(buffer: &buffer)
    }
}

/// Encodes ``WireMessage``s into frames.
package struct WireMessageEncoder: MessageToByteEncoder {
    /// Messages to frame.
    package typealias OutboundIn = WireMessage

    package init() {}

    /// Writes the type byte, the payload length and the JSON payload.
    package func encode(data: WireMessage, out: inout ByteBuffer) throws {
        let payload = try data.encodedPayload()
        out.writeInteger(data.typeByte)
        out.writeInteger(UInt32(payload.count))
        out.writeBytes(payload)
    }
}

extension WireMessage {
    /// The whole frame for this message; for tests and tools that work without a pipeline.
    package func frame() throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try WireMessageEncoder().encode(data: self, out: &buffer)
        return buffer
    }
}
