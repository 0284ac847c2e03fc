package io.roomlink.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Encoder and decoder of media datagrams: a fixed 24-byte layout
 * {@code magic:u16=0x524C | ver:u8=1 | type:u8 | mediaKey:u64 | seq:u32 | echoNs:u64}.
 *
 * <p>Decoding never throws on bad input: a malformed datagram decodes to {@code null} (the server
 * drops and counts it), so a flood of garbage costs no exceptions. Stateless and thread-safe.
 */
public final class MediaCodec {
    public static final int MAGIC = 0x524C;
    public static final int VERSION = 1;
    /** Every datagram has exactly this size. */
    public static final int SIZE = 24;
    /** Largest datagram either side may send (receive buffers are at least this big). */
    public static final int MAX_DATAGRAM = 1200;

    public static final int BIND = 0x01;
    public static final int BIND_ACK = 0x02;
    public static final int PING = 0x03;
    public static final int PONG = 0x04;

    private MediaCodec() {
    }

    /**
     * Decodes the readable bytes of {@code in} (without consuming them).
     *
     * @return the packet, or {@code null} if the size, magic, version or type is wrong
     */
    public static MediaPacket decode(ByteBuf in) {
        if (in.readableBytes() != SIZE) {
            return null;
        }
        int i = in.readerIndex();
        if (in.getUnsignedShort(i) != MAGIC || in.getUnsignedByte(i + 2) != VERSION) {
            return null;
        }
        int type = in.getUnsignedByte(i + 3);
        if (type < BIND || type > PONG) {
            return null;
        }
        return new MediaPacket(type, in.getLong(i + 4), in.getInt(i + 12), in.getLong(i + 16));
    }

    /** Decodes {@code len} bytes of {@code data} from {@code off}; {@code null} if malformed. */
    public static MediaPacket decode(byte[] data, int off, int len) {
        return decode(Unpooled.wrappedBuffer(data, off, len));
    }

    /** Appends the 24 bytes of {@code p} to {@code out}. */
    public static void encode(MediaPacket p, ByteBuf out) {
        out.writeShort(MAGIC);
        out.writeByte(VERSION);
        out.writeByte(p.type());
        out.writeLong(p.mediaKey());
        out.writeInt(p.seq());
        out.writeLong(p.echoNs());
    }

    /** The 24 bytes of {@code p}. */
    public static byte[] encode(MediaPacket p) {
        ByteBuf buf = Unpooled.buffer(SIZE, SIZE);
        encode(p, buf);
        return io.netty.buffer.ByteBufUtil.getBytes(buf);
    }
}
