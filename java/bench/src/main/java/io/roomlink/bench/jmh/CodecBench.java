package io.roomlink.bench.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.roomlink.server.TokenBuilder;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.ProtocolException;
import io.roomlink.server.protocol.WireCodec;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The server's codec on its hot paths: a JOIN frame (with a real-sized token) and a media PING
 * datagram, encoded into and decoded from reused buffers (no allocation besides the message).
 */
@State(Scope.Thread)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBench {
    /** A JOIN as the SDK sends it: app key, channel, uid, a real token, media key. */
    public static final Message.Join JOIN = new Message.Join("bench-app", "room-0001", 4242L,
            TokenBuilder.build("bench-secret", "bench-app", "room-0001", 4242L, Instant.parse("2030-01-01T00:00:00Z")),
            0x1122334455667788L, new byte[16]);
    public static final MediaPacket PING = new MediaPacket(MediaCodec.PING, 0x1122334455667788L, 1, 12345, 987654321L);
    /** The keys the JOIN above names. */
    public static final io.roomlink.server.protocol.MediaKeys KEYS =
            io.roomlink.server.protocol.MediaKeys.derive(0x1122334455667788L, new byte[16]);

    private final ByteBuf out = Unpooled.directBuffer(1024);
    private ByteBuf joinFrame;
    private ByteBuf pingDatagram;

    @Setup
    public void encodeOnce() {
        joinFrame = Unpooled.wrappedBuffer(WireCodec.encode(JOIN));
        pingDatagram = Unpooled.wrappedBuffer(MediaCodec.seal(PING, KEYS.clientToServer()));
    }

    @Benchmark
    public ByteBuf encodeJoin() {
        out.clear();
        WireCodec.encode(JOIN, out);
        return out;
    }

    @Benchmark
    public Message decodeJoin() throws ProtocolException {
        joinFrame.readerIndex(0);
        return WireCodec.decode(joinFrame);
    }

    private long counter;

    /** Seals a PING with a fresh counter each time, as a sender must (GCM refuses a repeated nonce). */
    @Benchmark
    public ByteBuf sealPing() {
        out.clear();
        MediaCodec.seal(PING.withCounter(++counter), KEYS.clientToServer(), out);
        return out;
    }

    /** The clear-header shape check alone: what a garbage datagram costs. */
    @Benchmark
    public boolean decodeMediaPing() {
        return MediaCodec.wellFormed(pingDatagram);
    }

    /** Shape check, then AES-GCM open and tag check: what an authentic datagram costs. */
    @Benchmark
    public MediaPacket openPing() {
        return MediaCodec.open(pingDatagram, KEYS.clientToServer());
    }
}
