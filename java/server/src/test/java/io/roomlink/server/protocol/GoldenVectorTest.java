package io.roomlink.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** docs/vectors/protocol.txt and invalid.txt, shared with the C++ tests. */
class GoldenVectorTest {

    /** Builds the message a signaling vector describes, from its name and fields. */
    static Message message(Vectors.Vector v) {
        String n = v.name();
        if (n.startsWith("join_ok")) {
            return new Message.JoinOk(u64(v, "channelId"), u64(v, "sessionId"), secret(v), v.get("mediaHost"),
                    Integer.parseInt(v.get("mediaPort")), u64(v, "serverTimeMs"));
        } else if (n.startsWith("join_err")) {
            return new Message.JoinErr(Integer.parseInt(v.get("code")), v.get("message"));
        } else if (n.startsWith("join")) {
            return new Message.Join(v.get("appKey"), v.get("channel"), u64(v, "uid"), v.get("token"),
                    u64(v, "mediaKey"), hex(v, "mediaSecret"));
        } else if (n.startsWith("resume_ok")) {
            return new Message.ResumeOk(u64(v, "channelId"), flag(v, "resumed"), u64(v, "sessionId"), secret(v),
                    v.get("mediaHost"), Integer.parseInt(v.get("mediaPort")), u64(v, "lastAccepted"));
        } else if (n.startsWith("resume")) {
            return new Message.Resume(u64(v, "sessionId"), secret(v), u64(v, "mediaKey"), hex(v, "mediaSecret"),
                    u64(v, "lastReceived"));
        } else if (n.startsWith("message_ack")) {
            return new Message.MessageAck(u64(v, "seq"));
        } else if (n.startsWith("message")) {
            return new Message.MessageFrame(u64(v, "seq"), Integer.parseInt(v.get("target")), u64(v, "toUid"),
                    hex(v, "data"));
        } else if (n.startsWith("room_message")) {
            return new Message.RoomMessage(u64(v, "fromUid"), Integer.parseInt(v.get("target")), hex(v, "data"));
        } else if (n.startsWith("stream_ack")) {
            return new Message.StreamAck(u64(v, "seq"));
        } else if (n.startsWith("leave_ok")) {
            return Message.LeaveOk.INSTANCE;
        } else if (n.startsWith("leave")) {
            return Message.Leave.INSTANCE;
        } else if (n.startsWith("peer_joined")) {
            return new Message.PeerJoined(u64(v, "uid"));
        } else if (n.startsWith("peer_left")) {
            return new Message.PeerLeft(u64(v, "uid"), Integer.parseInt(v.get("reason")));
        } else if (n.startsWith("ping")) {
            return new Message.Ping(u64(v, "nonce"));
        } else if (n.startsWith("pong")) {
            return new Message.Pong(u64(v, "nonce"));
        } else if (n.startsWith("session_end")) {
            return new Message.SessionEnd(Integer.parseInt(v.get("code")), v.get("message"));
        } else if (n.startsWith("token_will_expire")) {
            return new Message.TokenWillExpire(u64(v, "expiresAt"));
        } else if (n.startsWith("renew_token_result")) {
            return new Message.RenewTokenResult(Integer.parseInt(v.get("code")), u64(v, "expiresAt"));
        } else if (n.startsWith("renew_token")) {
            return new Message.RenewToken(v.get("token"));
        } else if (n.startsWith("error")) {
            return new Message.Error(Integer.parseInt(v.get("code")), v.get("message"));
        }
        throw new IllegalArgumentException("unknown vector kind: " + v);
    }

    static MediaPacket media(Vectors.Vector v) {
        int type = switch (v.name()) {
            case "media_bind" -> MediaCodec.BIND;
            case "media_ping_high_counter" -> MediaCodec.PING;
            case "media_bind_ack" -> MediaCodec.BIND_ACK;
            case "media_ping" -> MediaCodec.PING;
            case "media_pong" -> MediaCodec.PONG;
            default -> throw new IllegalArgumentException("unknown media vector: " + v);
        };
        return new MediaPacket(type, u64(v, "mediaKey"), u64(v, "counter"), Integer.parseUnsignedInt(v.get("seq")),
                u64(v, "echoNs"));
    }

    /** The keys a media vector is sealed under. */
    static MediaKeys keys(Vectors.Vector v) {
        return MediaKeys.derive(u64(v, "mediaKey"), hex(v, "mediaSecret"));
    }

    /** The key of the direction a datagram type travels. */
    static javax.crypto.SecretKey keyFor(MediaKeys k, int type) {
        return type == MediaCodec.BIND || type == MediaCodec.PING ? k.clientToServer() : k.serverToClient();
    }

    private static byte[] hex(Vectors.Vector v, String field) {
        return HexFormat.of().parseHex(v.get(field));
    }

    private static long u64(Vectors.Vector v, String f) {
        return Long.parseUnsignedLong(v.get(f));
    }

    private static boolean flag(Vectors.Vector v, String f) {
        String s = v.get(f);
        assertTrue(s.equals("0") || s.equals("1"), v + ": " + f + " must be 0 or 1");
        return s.equals("1");
    }

    private static byte[] secret(Vectors.Vector v) {
        return HexFormat.of().parseHex(v.get("sessionSecret"));
    }

    @TestFactory
    Stream<DynamicTest> encodeAndDecodeEveryValidVector() throws Exception {
        List<Vectors.Vector> all = Vectors.load("protocol.txt");
        assertTrue(all.size() >= 18, "expected the full vector set, got " + all.size());
        return all.stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> {
            if (v.name().equals("media_keys")) {
                MediaKeys k = keys(v);
                byte[] both = new byte[32];
                System.arraycopy(k.clientToServerBytes(), 0, both, 0, 16);
                System.arraycopy(k.serverToClientBytes(), 0, both, 16, 16);
                assertEquals(v.hex(), HexFormat.of().formatHex(both), "c2s ‖ s2c of " + v);
            } else if (v.name().startsWith("media_")) {
                MediaPacket p = media(v);
                MediaKeys k = keys(v);
                javax.crypto.SecretKey key = keyFor(k, p.type());
                assertEquals(v.hex(), HexFormat.of().formatHex(MediaCodec.seal(p, key)), "seal " + v);
                assertEquals(p, MediaCodec.open(v.bytes(), 0, v.bytes().length, key), "open " + v);
                assertNull(MediaCodec.open(v.bytes(), 0, v.bytes().length,
                        key == k.clientToServer() ? k.serverToClient() : k.clientToServer()),
                        "the other direction's key does not open " + v);
            } else {
                Message m = message(v);
                assertEquals(v.hex(), HexFormat.of().formatHex(WireCodec.encode(m)), "encode " + v);
                assertEquals(m, WireCodec.decodeFrame(v.bytes()), "decode " + v);
                assertIncrementalDecode(v.bytes(), m);
            }
        }));
    }

    /** Fed one byte at a time, the decoder waits (null) until the last byte, then yields the message. */
    private static void assertIncrementalDecode(byte[] frame, Message expected) throws ProtocolException {
        ByteBuf buf = Unpooled.buffer();
        for (int i = 0; i < frame.length - 1; i++) {
            buf.writeByte(frame[i]);
            assertNull(WireCodec.decode(buf), "decoded early at byte " + i);
        }
        buf.writeByte(frame[frame.length - 1]);
        assertEquals(expected, WireCodec.decode(buf));
        assertFalse(buf.isReadable());
    }

    @Test
    void allValidVectorsBackToBackDecodeInOrder() throws Exception {
        ByteBuf stream = Unpooled.buffer();
        List<Vectors.Vector> frames = Vectors.load("protocol.txt").stream()
                .filter(v -> !v.name().startsWith("media_")).toList();
        frames.forEach(v -> stream.writeBytes(v.bytes()));
        for (Vectors.Vector v : frames) {
            assertEquals(message(v), WireCodec.decode(stream), v.toString());
        }
        assertNull(WireCodec.decode(stream));
    }

    @TestFactory
    Stream<DynamicTest> rejectEveryInvalidVector() throws Exception {
        List<Vectors.Vector> all = Vectors.load("invalid.txt");
        assertTrue(all.size() >= 10, "expected the full invalid set, got " + all.size());
        return all.stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> {
            ProtocolException e = assertThrows(ProtocolException.class,
                    () -> WireCodec.decode(Unpooled.wrappedBuffer(v.bytes())), v.toString());
            assertSame(ProtocolException.class, e.getClass());
            assertNotNull(e.reason());
            assertFalse(e.reason().isEmpty());
            if (v.name().equals("bad_version")) {
                assertEquals("unsupported version", e.reason());
            }
        }));
    }

    @Test
    void mutatedFramesFailOnlyWithProtocolException() throws Exception {
        java.util.Random rnd = new java.util.Random(42);
        List<Vectors.Vector> frames = Vectors.load("protocol.txt").stream()
                .filter(v -> !v.name().startsWith("media_")).toList();
        for (int i = 0; i < 20_000; i++) {
            byte[] b = frames.get(rnd.nextInt(frames.size())).bytes().clone();
            int flips = 1 + rnd.nextInt(3);
            for (int f = 0; f < flips; f++) {
                b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
            if (rnd.nextInt(4) == 0) {
                b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length + 8));
            }
            try {
                WireCodec.decode(Unpooled.wrappedBuffer(b));
            } catch (ProtocolException expected) {
                // fine
            } catch (RuntimeException e) {
                fail("decoding " + HexFormat.of().formatHex(b) + " threw " + e, e);
            }
        }
    }

    @Test
    void hugeLengthIsRejectedFromTheHeaderAlone() {
        assertThrows(ProtocolException.class,
                () -> WireCodec.decode(Unpooled.wrappedBuffer(HexFormat.of().parseHex("7fffffff"))));
        assertThrows(ProtocolException.class,
                () -> WireCodec.decode(Unpooled.wrappedBuffer(HexFormat.of().parseHex("ffffffff01"))));
    }

    @Test
    void maxFrameIsAccepted() throws Exception {
        // len = 65536 is legal; a payload that large is only ever invalid for its fields, not its size.
        ByteBuf buf = Unpooled.buffer();
        buf.writeInt(WireCodec.MAX_FRAME).writeByte(1).writeByte(WireCodec.LEAVE).writeZero(WireCodec.MAX_FRAME - 2);
        ProtocolException e = assertThrows(ProtocolException.class, () -> WireCodec.decode(buf));
        assertTrue(e.reason().contains("trailing"), e.reason());
    }

    @Test
    void encoderEnforcesFieldLimits() {
        String s65 = "a".repeat(65);
        assertThrows(IllegalArgumentException.class,
                () -> WireCodec.encode(new Message.Join(s65, "c", 1, "", 1, new byte[16])));
        assertThrows(IllegalArgumentException.class,
                () -> WireCodec.encode(new Message.Join("k", "", 1, "", 1, new byte[16])));
        assertThrows(IllegalArgumentException.class,
                () -> WireCodec.encode(new Message.Join("k", "c", 1, "t".repeat(1025), 1, new byte[16])));
        assertThrows(IllegalArgumentException.class,
                () -> WireCodec.encode(new Message.Error(1, "m".repeat(513))));
        assertThrows(IllegalArgumentException.class,
                () -> WireCodec.encode(new Message.JoinOk(1, 1, new byte[16], "", 1, 1)));
        // limits are in UTF-8 bytes: 22 three-byte characters = 66 bytes
        assertThrows(IllegalArgumentException.class,
                () -> WireCodec.encode(new Message.Join("k", "房".repeat(22), 1, "", 1, new byte[16])));
        WireCodec.encode(new Message.Join("k".repeat(64), "房".repeat(21), 1, "t".repeat(1024), 1, new byte[16]));
        ByteBuf buf = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class, () -> WireCodec.encode(new Message.Join(s65, "c", 1, "", 1, new byte[16]), buf));
        assertEquals(0, buf.writerIndex(), "nothing written on failure");
    }

    @Test
    void stringLimitsAreCheckedOnDecode() throws Exception {
        byte[] ok = WireCodec.encode(new Message.Join("k".repeat(64), "c".repeat(64), 1, "t".repeat(1024), 1, new byte[16]));
        assertEquals(new Message.Join("k".repeat(64), "c".repeat(64), 1, "t".repeat(1024), 1, new byte[16]),
                WireCodec.decodeFrame(ok));
        // an empty mediaHost in JOIN_OK
        ByteBuf b = Unpooled.buffer();
        b.writeInt(0).writeByte(1).writeByte(WireCodec.JOIN_OK).writeLong(1).writeLong(2).writeZero(16)
                .writeShort(0).writeShort(5).writeLong(6);
        b.setInt(0, b.readableBytes() - 4);
        assertThrows(ProtocolException.class, () -> WireCodec.decode(b));
    }

    @Test
    void roomMessageEncodedForFanOutMatchesTheCodec() throws Exception {
        byte[] data = {1, 2, 3};
        ByteBuf b = WireCodec.encodeRoomMessage(42, 1, data, io.netty.buffer.ByteBufAllocator.DEFAULT);
        try {
            assertEquals(HexFormat.of().formatHex(WireCodec.encode(new Message.RoomMessage(42, 1, data))),
                    io.netty.buffer.ByteBufUtil.hexDump(b));
            assertEquals(WireCodec.ROOM_MESSAGE_OVERHEAD + data.length, b.readableBytes());
        } finally {
            b.release();
        }
        assertThrows(IllegalArgumentException.class,
                () -> WireCodec.encode(new Message.MessageFrame(1, 0, 0, new byte[0])));
        assertThrows(IllegalArgumentException.class,
                () -> WireCodec.encode(new Message.MessageFrame(1, 0, 5, new byte[1])));
        assertThrows(IllegalArgumentException.class,
                () -> WireCodec.encode(new Message.RoomMessage(1, 0, new byte[WireCodec.DATA_MAX + 1])));
    }

    @Test
    void reservedTypesAreUnknown() {
        for (int t : new int[] {0x11, 0x12, 0x17}) {
            byte[] frame = {0, 0, 0, 10, 1, (byte) t, 0, 0, 0, 0, 0, 0, 0, 1};
            ProtocolException e = assertThrows(ProtocolException.class, () -> WireCodec.decodeFrame(frame));
            assertTrue(e.reason().contains("unknown"), e.reason());
        }
    }

    @Test
    void resumedFlagMustBeZeroOrOne() {
        byte[] frame = WireCodec.encode(new Message.ResumeOk(7, true, 1, new byte[16], "h", 1));
        frame[14] = 2; // the resumed byte: 4 len + 2 header + 8 channelId
        assertThrows(ProtocolException.class, () -> WireCodec.decodeFrame(frame));
    }

    @Test
    void malformedDatagramsOpenToNull() {
        MediaKeys k = MediaKeys.derive(1, new byte[16]);
        byte[] good = MediaCodec.seal(new MediaPacket(MediaCodec.PING, 1, 1, 2, 3), k.clientToServer());
        assertNotNull(MediaCodec.open(good, 0, good.length, k.clientToServer()));
        assertNull(MediaCodec.open(good, 0, 47, k.clientToServer()), "short");
        byte[] longer = java.util.Arrays.copyOf(good, 49);
        assertNull(MediaCodec.open(longer, 0, 49, k.clientToServer()), "long");
        byte[] magic = good.clone();
        magic[0] = 0;
        assertNull(MediaCodec.open(magic, 0, 48, k.clientToServer()), "magic");
        byte[] ver = good.clone();
        ver[2] = 1;
        assertNull(MediaCodec.open(ver, 0, 48, k.clientToServer()), "version");
        byte[] type = good.clone();
        type[3] = 5;
        assertNull(MediaCodec.open(type, 0, 48, k.clientToServer()), "type");
        type[3] = 0;
        assertNull(MediaCodec.open(type, 0, 48, k.clientToServer()), "type 0");
        type[3] = MediaCodec.BIND;
        assertNull(MediaCodec.open(type, 0, 48, k.clientToServer()), "a well-formed type change fails the tag");
        assertNull(MediaCodec.open(good, 0, 48, null), "no key");
    }

    @Test
    void toStringRedactsCredentials() {
        String secretHex = "000102030405060708090a0b0c0d0e0f";
        byte[] secret = HexFormat.of().parseHex(secretHex);
        String all = new Message.Join("k", "c", 1, "my-token-value", 2, secret) + " "
                + new Message.JoinOk(1, 2, secret, "h", 3, 4) + " "
                + new Message.Resume(1, secret, 2, secret) + " "
                + new Message.ResumeOk(1, true, 2, secret, "h", 3);
        assertFalse(all.contains("my-token-value"), all);
        assertFalse(all.contains(secretHex), all);
        assertFalse(all.contains(java.util.Arrays.toString(secret)), all);
    }
}
