package io.roomlink.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded property-based fuzzing of the server's decoders ({@link WireCodec}, {@link FrameDecoder},
 * {@link MediaCodec}) from the golden vectors and random valid frames; see {@link FuzzRun} for the
 * budget and how to rerun a failure. Invariants: a decode returns a message that re-encodes to
 * exactly the bytes it consumed, or needs more bytes, or throws {@link ProtocolException}, never
 * anything else; it allocates within a bound set by the frame cap, and the stream decoder never
 * holds more than one frame's worth of bytes.
 */
class DecoderFuzzTest {
    /** Worst case of one decode: every byte of a full frame as a Java String, with slack. */
    private static final long ALLOCATION_BOUND = 4L * (WireCodec.LENGTH_FIELD + WireCodec.MAX_FRAME) + 64 * 1024;

    private static List<byte[]> signalSeeds;
    private static List<byte[]> validSignalSeeds;
    private static List<byte[]> mediaSeeds;

    @BeforeAll
    static void loadVectors() throws Exception {
        signalSeeds = new ArrayList<>();
        mediaSeeds = new ArrayList<>();
        for (Vectors.Vector v : Vectors.load("protocol.txt")) {
            (v.name().startsWith("media_") ? mediaSeeds : signalSeeds).add(v.bytes());
        }
        validSignalSeeds = List.copyOf(signalSeeds);
        for (Vectors.Vector v : Vectors.load("invalid.txt")) {
            signalSeeds.add(v.bytes());
        }
    }

    @Test
    void wireCodecDecodesOrRejectsMutatedFrames() {
        FuzzRun.forAll("WireCodec.decode", (random, inputs) -> {
            byte[] input = inputs.record(signalInput(random));
            checkDecode(input);
        });
    }

    @Test
    void wireCodecAllocatesWithinTheFrameCap() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        FuzzRun.forAll("WireCodec.decode allocation", (random, inputs) -> {
            byte[] input = inputs.record(signalInput(random));
            ByteBuf buf = Unpooled.wrappedBuffer(input);
            long before = threads.getThreadAllocatedBytes(self);
            try {
                WireCodec.decode(buf);
            } catch (ProtocolException expected) {
                // rejected: what matters here is what it cost
            }
            long allocated = threads.getThreadAllocatedBytes(self) - before;
            assertTrue(allocated <= ALLOCATION_BOUND, "decode allocated " + allocated + " bytes");
        });
    }

    @Test
    void frameDecoderReassemblesSplitAndCoalescedStreams() {
        FuzzRun.forAll("FrameDecoder valid stream", (random, inputs) -> {
            RandomMessages messages = new RandomMessages(random);
            List<byte[]> frames = new ArrayList<>();
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            int count = 1 + random.nextInt(6);
            for (int i = 0; i < count; i++) {
                byte[] frame = random.nextBoolean() ? messages.frame() : pick(random, validSignalSeeds);
                frames.add(frame);
                stream.writeBytes(frame);
            }
            byte[] bytes = inputs.record(stream.toByteArray());
            EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
            for (byte[] piece : split(random, bytes)) {
                channel.writeInbound(Unpooled.wrappedBuffer(piece));
            }
            for (byte[] frame : frames) {
                Message m = channel.readInbound();
                assertArrayEquals(frame, encode(m), "frames come out whole and in order");
            }
            assertNull(channel.readInbound(), "no message beyond the frames sent");
            channel.finishAndReleaseAll();
        });
    }

    @Test
    void frameDecoderFailsOnlyWithProtocolExceptionAndBuffersAtMostOneFrame() {
        FuzzRun.forAll("FrameDecoder hostile stream", (random, inputs) -> {
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            int count = 1 + random.nextInt(4);
            for (int i = 0; i < count; i++) {
                stream.writeBytes(signalInput(random));
            }
            byte[] bytes = inputs.record(stream.toByteArray());
            FrameDecoder decoder = new FrameDecoder();
            EmbeddedChannel channel = new EmbeddedChannel(decoder);
            int fed = 0;
            int delivered = 0; // bytes of the frames that came out
            for (byte[] piece : split(random, bytes)) {
                try {
                    channel.writeInbound(Unpooled.wrappedBuffer(piece));
                } catch (DecoderException e) {
                    assertInstanceOf(ProtocolException.class, e.getCause(), "only protocol errors");
                    assertTrue(decoder.failed());
                }
                fed += piece.length;
                for (Object m; (m = channel.readInbound()) != null; ) {
                    byte[] frame = encode((Message) m);
                    assertArrayEquals(frame, Arrays.copyOfRange(bytes, delivered, delivered + frame.length),
                            "a delivered message is exactly the next frame of the stream");
                    delivered += frame.length;
                }
                if (decoder.failed()) {
                    break; // the connection is closed from here on
                }
                // What the decoder still holds must be the start of one frame within the cap.
                int held = fed - delivered;
                if (held >= WireCodec.LENGTH_FIELD) {
                    long len = Unpooled.wrappedBuffer(bytes).getUnsignedInt(delivered);
                    assertTrue(len >= WireCodec.MIN_FRAME && len <= WireCodec.MAX_FRAME,
                            "decoder buffers " + held + " bytes behind a header claiming " + len);
                    assertTrue(held < WireCodec.LENGTH_FIELD + len, "a whole frame was left undecoded");
                }
            }
            channel.finishAndReleaseAll();
        });
    }

    @Test
    void mediaCodecOpensOrDropsMutatedDatagrams() {
        MediaKeys k = MediaKeys.derive(0x0123456789abcdefL, java.util.HexFormat.of().parseHex("101112131415161718191a1b1c1d1e1f"));
        FuzzRun.forAll("MediaCodec.open", (random, inputs) -> {
            byte[] input = inputs.record(mediaInput(random, k));
            for (javax.crypto.SecretKey key : List.of(k.clientToServer(), k.serverToClient())) {
                MediaPacket packet = MediaCodec.open(input, 0, input.length, key);
                if (packet != null) {
                    assertEquals(MediaCodec.SIZE, input.length);
                    assertArrayEquals(input, MediaCodec.seal(packet, key), "an opened datagram re-seals to its bytes");
                }
            }
        });
    }

    @Test
    void everyFlippedBitFailsAuthentication() {
        MediaKeys k = MediaKeys.derive(42, new byte[16]);
        byte[] good = MediaCodec.seal(new MediaPacket(MediaCodec.PING, 42, 9, 5, 77), k.clientToServer());
        assertNotNull(MediaCodec.open(good, 0, good.length, k.clientToServer()));
        for (int bit = 0; bit < good.length * 8; bit++) {
            byte[] bad = good.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            assertNull(MediaCodec.open(bad, 0, bad.length, k.clientToServer()), "bit " + bit);
        }
    }

    /** One decode: a message re-encoding to what it consumed, or nothing consumed, or ProtocolException. */
    private static void checkDecode(byte[] input) throws Exception {
        ByteBuf buf = Unpooled.wrappedBuffer(input);
        Message m;
        try {
            m = WireCodec.decode(buf);
        } catch (ProtocolException rejected) {
            assertTrue(rejected.reason() != null && !rejected.reason().isEmpty(), "a rejection says why");
            return;
        }
        if (m == null) {
            assertEquals(0, buf.readerIndex(), "an incomplete frame consumes nothing");
            assertTrue(input.length < WireCodec.LENGTH_FIELD + WireCodec.MAX_FRAME, "incomplete only below the cap");
            if (input.length >= WireCodec.LENGTH_FIELD) {
                long len = buf.getUnsignedInt(0);
                assertTrue(len >= WireCodec.MIN_FRAME && len <= WireCodec.MAX_FRAME,
                        "waits for more bytes behind a header claiming " + len);
            }
            return;
        }
        byte[] consumed = Arrays.copyOf(input, buf.readerIndex());
        assertArrayEquals(consumed, encode(m), "a decoded frame re-encodes to its bytes");
    }

    private static byte[] signalInput(SplittableRandom random) {
        return switch (random.nextInt(10)) {
            case 0 -> new RandomMessages(random).frame();
            case 1 -> randomBytes(random, random.nextInt(64));
            case 2, 3 -> new WireMutator(random).mutate(new RandomMessages(random).frame(), signalSeeds);
            default -> new WireMutator(random).mutate(pick(random, signalSeeds), signalSeeds);
        };
    }

    private static byte[] mediaInput(SplittableRandom random, MediaKeys k) {
        return switch (random.nextInt(5)) {
            case 0 -> randomBytes(random, random.nextInt(MediaCodec.MAX_DATAGRAM + 1));
            case 1 -> MediaCodec.seal(new MediaPacket(1 + random.nextInt(4), random.nextLong(), random.nextLong(),
                    random.nextInt(), random.nextLong()), random.nextBoolean() ? k.clientToServer() : k.serverToClient());
            default -> new WireMutator(random).mutate(pick(random, mediaSeeds), mediaSeeds);
        };
    }

    /** The stream cut at random points: single bytes, odd sizes, or all at once. */
    private static List<byte[]> split(SplittableRandom random, byte[] bytes) {
        List<byte[]> pieces = new ArrayList<>();
        int at = 0;
        int mode = random.nextInt(3);
        while (at < bytes.length) {
            int n = switch (mode) {
                case 0 -> 1;
                case 1 -> 1 + random.nextInt(97);
                default -> bytes.length;
            };
            n = Math.min(n, bytes.length - at);
            pieces.add(Arrays.copyOfRange(bytes, at, at + n));
            at += n;
        }
        return pieces;
    }

    private static byte[] encode(Message m) {
        ByteBuf out = Unpooled.buffer();
        WireCodec.encode(m, out);
        return ByteBufUtil.getBytes(out);
    }

    private static byte[] pick(SplittableRandom random, List<byte[]> pool) {
        return pool.get(random.nextInt(pool.size()));
    }

    private static byte[] randomBytes(SplittableRandom random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
