package io.roomlink.server.protocol;

/**
 * One media datagram of media protocol v2 (docs/PROTOCOL.md, "Media packets"), in clear: the
 * header fields {@code type}, {@code mediaKey}, {@code counter} and the sealed payload
 * {@code seq}, {@code echoNs}. {@link MediaCodec#seal} turns it into the 48 bytes on the wire.
 *
 * @param type     {@link MediaCodec#BIND}, {@link MediaCodec#BIND_ACK}, {@link MediaCodec#PING} or
 *                 {@link MediaCodec#PONG}
 * @param mediaKey u64, as raw bits
 * @param counter  u64 nonce counter, as raw bits: 1, 2, … per sender and key; 0 is never sent and
 *                 means "not assigned yet" to senders that pick the next counter themselves
 * @param seq      u32, as raw bits (use {@link Integer#toUnsignedLong(int)} to read it unsigned)
 * @param echoNs   u64, as raw bits
 */
public record MediaPacket(int type, long mediaKey, long counter, int seq, long echoNs) {
    public MediaPacket {
        if (type < 0 || type > 0xFF) {
            throw new IllegalArgumentException("type must fit in u8: " + type);
        }
    }

    /**
     * A packet whose counter is not assigned yet (0): for senders that number their datagrams
     * themselves (a test server's {@code sendMedia}), so callers need not track counters.
     */
    public MediaPacket(int type, long mediaKey, int seq, long echoNs) {
        this(type, mediaKey, 0, seq, echoNs);
    }

    /**
     * The reply echoing this packet's key, {@code seq} and {@code echoNs}, with another type and
     * the replying sender's own {@code counter} (counters are per direction, never echoed).
     */
    public MediaPacket reply(int replyType, long replyCounter) {
        return new MediaPacket(replyType, mediaKey, replyCounter, seq, echoNs);
    }

    /** The same packet numbered {@code c}. */
    public MediaPacket withCounter(long c) {
        return new MediaPacket(type, mediaKey, c, seq, echoNs);
    }
}
