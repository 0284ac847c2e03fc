package io.roomlink.server.protocol;

/**
 * One media datagram of wire protocol v1 (docs/PROTOCOL.md, "Media packets").
 *
 * @param type     {@link MediaCodec#BIND}, {@link MediaCodec#BIND_ACK}, {@link MediaCodec#PING} or
 *                 {@link MediaCodec#PONG}
 * @param mediaKey u64, as raw bits
 * @param seq      u32, as raw bits (use {@link Integer#toUnsignedLong(int)} to read it unsigned)
 * @param echoNs   u64, as raw bits
 */
public record MediaPacket(int type, long mediaKey, int seq, long echoNs) {
    public MediaPacket {
        if (type < 0 || type > 0xFF) {
            throw new IllegalArgumentException("type must fit in u8: " + type);
        }
    }

    /** The reply echoing this packet's key, {@code seq} and {@code echoNs} with another type. */
    public MediaPacket reply(int replyType) {
        return new MediaPacket(replyType, mediaKey, seq, echoNs);
    }
}
