package io.roomlink.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.util.ByteProcessor;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Encoder and decoder of signaling frames (docs/PROTOCOL.md, wire protocol v1).
 *
 * <pre>len:u32 | ver:u8 | type:u8 | payload(len-2)</pre>
 *
 * Stateless and thread-safe; usable without a Netty pipeline (see {@link FrameDecoder} /
 * {@link FrameEncoder} for the pipeline adapters).
 */
public final class WireCodec {
    public static final int VERSION = 1;
    /** Maximum value of the {@code len} field. */
    public static final int MAX_FRAME = 65536;
    /**
     * Maximum value of the {@code len} field of the first frame on a connection, before it is
     * authenticated: the largest JOIN (ver + type, appKey, channel and token at their limits, uid,
     * mediaKey, mediaSecret), the larger of the two frames that may come first. A longer first
     * frame is a protocol error as soon as its length field arrives, so an unauthenticated
     * connection never makes the server buffer more than this.
     */
    public static final int MAX_FIRST_FRAME = 2 + (2 + 64) + (2 + 64) + 8 + (2 + 1024) + 8 + 16;
    /** Minimum value of the {@code len} field (ver + type). */
    public static final int MIN_FRAME = 2;
    /** Size of the {@code len} field. */
    public static final int LENGTH_FIELD = 4;
    public static final int SECRET_LEN = 16;

    public static final int JOIN = 0x01;
    public static final int JOIN_OK = 0x02;
    public static final int JOIN_ERR = 0x03;
    public static final int RESUME = 0x04;
    public static final int RESUME_OK = 0x05;
    public static final int LEAVE = 0x06;
    public static final int LEAVE_OK = 0x07;
    public static final int PEER_JOINED = 0x08;
    public static final int PEER_LEFT = 0x09;
    public static final int PING = 0x0A;
    public static final int PONG = 0x0B;
    public static final int SESSION_END = 0x0C;
    public static final int ERROR = 0x0D;
    public static final int TOKEN_WILL_EXPIRE = 0x0E;
    public static final int RENEW_TOKEN = 0x0F;
    public static final int RENEW_TOKEN_RESULT = 0x10;
    public static final int MESSAGE = 0x13;
    public static final int MESSAGE_ACK = 0x14;
    public static final int ROOM_MESSAGE = 0x15;
    public static final int STREAM_ACK = 0x16;
    /** The highest type byte defined (0x11, 0x12 are reserved for credentials: unknown types). */
    static final int LAST_TYPE = STREAM_ACK;
    /** Limits of the {@code data} of MESSAGE and ROOM_MESSAGE, in bytes. */
    public static final int DATA_MIN = 1;
    public static final int DATA_MAX = 16384;
    /** Bytes of a ROOM_MESSAGE frame around its data: len, ver, type, fromUid, target. */
    public static final int ROOM_MESSAGE_OVERHEAD = LENGTH_FIELD + 2 + 8 + 1;

    // Field limits, in UTF-8 bytes.
    public static final int APP_KEY_MIN = 1;
    public static final int APP_KEY_MAX = 64;
    public static final int CHANNEL_MIN = 1;
    public static final int CHANNEL_MAX = 64;
    public static final int TOKEN_MAX = 1024;
    public static final int MESSAGE_MAX = 512;
    public static final int MEDIA_HOST_MIN = 1;
    public static final int MEDIA_HOST_MAX = 255;

    private static final String[] NAMES = {null, "JOIN", "JOIN_OK", "JOIN_ERR", "RESUME", "RESUME_OK", "LEAVE",
        "LEAVE_OK", "PEER_JOINED", "PEER_LEFT", "PING", "PONG", "SESSION_END", "ERROR", "TOKEN_WILL_EXPIRE",
        "RENEW_TOKEN", "RENEW_TOKEN_RESULT", null, null, "MESSAGE", "MESSAGE_ACK", "ROOM_MESSAGE", "STREAM_ACK"};

    /** Stops at the first byte outside 7-bit ASCII. */
    private static final ByteProcessor ASCII = b -> b >= 0;

    private WireCodec() {
    }

    /** Wire name of a type byte ("JOIN", …), or {@code "0x7f"} for an unknown one. */
    public static String typeName(int type) {
        return type > 0 && type < NAMES.length && NAMES[type] != null ? NAMES[type] : String.format("0x%02x", type);
    }

    // ------------------------------------------------------------------------------------------
    // Decoding
    // ------------------------------------------------------------------------------------------

    /**
     * Decodes one frame from the readable bytes of {@code in}.
     *
     * @return the message, with its bytes consumed; or {@code null} if {@code in} does not hold a
     *     whole frame yet (nothing consumed)
     * @throws ProtocolException if the bytes can never form a valid frame; the reader index is then
     *     unspecified and the connection must be dropped
     */
    public static Message decode(ByteBuf in) throws ProtocolException {
        return decode(in, MAX_FRAME);
    }

    /**
     * {@link #decode(ByteBuf)} with a lower limit on the {@code len} field, e.g.
     * {@link #MAX_FIRST_FRAME} before the connection is authenticated.
     */
    public static Message decode(ByteBuf in, int maxFrame) throws ProtocolException {
        int readable = in.readableBytes();
        if (readable < LENGTH_FIELD) {
            return null;
        }
        int start = in.readerIndex();
        long len = in.getUnsignedInt(start);
        if (len < MIN_FRAME) {
            throw new ProtocolException("frame length " + len + " below minimum " + MIN_FRAME);
        }
        if (len > maxFrame) {
            throw new ProtocolException("frame length " + len + " exceeds maximum " + maxFrame
                    + (maxFrame < MAX_FRAME ? " before JOIN/RESUME" : ""));
        }
        // Header checks as soon as the bytes are there, so garbage is rejected without buffering.
        if (readable >= LENGTH_FIELD + 1 && in.getUnsignedByte(start + LENGTH_FIELD) != VERSION) {
            throw new ProtocolException("unsupported version");
        }
        if (readable >= LENGTH_FIELD + 2) {
            int type = in.getUnsignedByte(start + LENGTH_FIELD + 1);
            if (!knownType(type)) {
                throw new ProtocolException("unknown message type " + typeName(type));
            }
        }
        if (readable < LENGTH_FIELD + len) {
            return null;
        }
        int type = in.getUnsignedByte(start + LENGTH_FIELD + 1);
        Message m = decodePayload(type, in.slice(start + LENGTH_FIELD + 2, (int) len - 2));
        in.readerIndex(start + LENGTH_FIELD + (int) len);
        return m;
    }

    /**
     * Decodes exactly one whole frame held in {@code frame} (convenience for tests and tools).
     *
     * @throws ProtocolException if the bytes are not exactly one valid frame
     */
    public static Message decodeFrame(byte[] frame) throws ProtocolException {
        ByteBuf buf = Unpooled.wrappedBuffer(frame);
        Message m = decode(buf);
        if (m == null) {
            throw new ProtocolException("incomplete frame");
        }
        if (buf.isReadable()) {
            throw new ProtocolException("bytes after the frame");
        }
        return m;
    }

    /**
     * Reads one whole frame from a blocking stream and decodes it (convenience for tests and tools
     * that speak the protocol over a plain socket). The length field is checked before the body is
     * read, so a hostile length is refused without waiting for, or allocating, its bytes.
     *
     * @return the message; or {@code null} if the stream ends cleanly before a frame starts
     * @throws EOFException if the stream ends inside a frame
     * @throws ProtocolException if the length or the frame is invalid
     */
    public static Message readFrame(DataInputStream in) throws IOException, ProtocolException {
        int len;
        try {
            len = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        if (len < MIN_FRAME || len > MAX_FRAME) {
            throw new ProtocolException("frame length " + Integer.toUnsignedString(len) + " out of range");
        }
        byte[] frame = new byte[LENGTH_FIELD + len];
        frame[0] = (byte) (len >>> 24);
        frame[1] = (byte) (len >>> 16);
        frame[2] = (byte) (len >>> 8);
        frame[3] = (byte) len;
        in.readFully(frame, LENGTH_FIELD, len);
        return decodeFrame(frame);
    }

    /**
     * Decodes the payload of a frame whose version was already checked.
     *
     * @param payload exactly the payload bytes (its readable bytes are consumed)
     */
    public static Message decodePayload(int type, ByteBuf payload) throws ProtocolException {
        if (!knownType(type)) {
            throw new ProtocolException("unknown message type " + typeName(type));
        }
        Message m = switch (type) {
            case JOIN -> new Message.Join(
                    readStr(payload, "appKey", APP_KEY_MIN, APP_KEY_MAX),
                    readStr(payload, "channel", CHANNEL_MIN, CHANNEL_MAX),
                    readU64(payload, "uid"),
                    readStr(payload, "token", 0, TOKEN_MAX),
                    readU64(payload, "mediaKey"),
                    readBytes16(payload, "mediaSecret"));
            case JOIN_OK -> new Message.JoinOk(
                    readU64(payload, "channelId"),
                    readU64(payload, "sessionId"),
                    readBytes16(payload, "sessionSecret"),
                    readStr(payload, "mediaHost", MEDIA_HOST_MIN, MEDIA_HOST_MAX),
                    readU16(payload, "mediaPort"),
                    readU64(payload, "serverTimeMs"));
            case JOIN_ERR -> new Message.JoinErr(readI32(payload, "code"),
                    readStr(payload, "message", 0, MESSAGE_MAX));
            case RESUME -> new Message.Resume(
                    readU64(payload, "sessionId"),
                    readBytes16(payload, "sessionSecret"),
                    readU64(payload, "mediaKey"),
                    readBytes16(payload, "mediaSecret"),
                    readU64(payload, "lastReceived"));
            case RESUME_OK -> new Message.ResumeOk(
                    readU64(payload, "channelId"),
                    readFlag(payload, "resumed"),
                    readU64(payload, "sessionId"),
                    readBytes16(payload, "sessionSecret"),
                    readStr(payload, "mediaHost", MEDIA_HOST_MIN, MEDIA_HOST_MAX),
                    readU16(payload, "mediaPort"),
                    readU64(payload, "lastAccepted"));
            case LEAVE -> Message.Leave.INSTANCE;
            case LEAVE_OK -> Message.LeaveOk.INSTANCE;
            case PEER_JOINED -> new Message.PeerJoined(readU64(payload, "uid"));
            case PEER_LEFT -> new Message.PeerLeft(readU64(payload, "uid"), readU8(payload, "reason"));
            case PING -> new Message.Ping(readU64(payload, "nonce"));
            case PONG -> new Message.Pong(readU64(payload, "nonce"));
            case SESSION_END -> new Message.SessionEnd(readI32(payload, "code"),
                    readStr(payload, "message", 0, MESSAGE_MAX));
            case ERROR -> new Message.Error(readI32(payload, "code"),
                    readStr(payload, "message", 0, MESSAGE_MAX));
            case TOKEN_WILL_EXPIRE -> new Message.TokenWillExpire(readU64(payload, "expiresAt"));
            case RENEW_TOKEN -> new Message.RenewToken(readStr(payload, "token", 0, TOKEN_MAX));
            case RENEW_TOKEN_RESULT -> new Message.RenewTokenResult(readI32(payload, "code"),
                    readU64(payload, "expiresAt"));
            case MESSAGE -> {
                long seq = readU64(payload, "seq");
                int target = readU8(payload, "target");
                long toUid = readU64(payload, "toUid");
                if (target > 1) {
                    throw new ProtocolException("target must be 0 or 1, got " + target);
                }
                if (target == 0 && toUid != 0) {
                    throw new ProtocolException("toUid must be 0 when target is 0");
                }
                yield new Message.MessageFrame(seq, target, toUid, readData(payload));
            }
            case MESSAGE_ACK -> new Message.MessageAck(readU64(payload, "seq"));
            case ROOM_MESSAGE -> {
                long fromUid = readU64(payload, "fromUid");
                int target = readU8(payload, "target");
                if (target > 1) {
                    throw new ProtocolException("target must be 0 or 1, got " + target);
                }
                yield new Message.RoomMessage(fromUid, target, readData(payload));
            }
            case STREAM_ACK -> new Message.StreamAck(readU64(payload, "seq"));
            default -> throw new ProtocolException("unknown message type " + typeName(type));
        };
        if (payload.isReadable()) {
            throw new ProtocolException("trailing bytes after " + typeName(type) + " payload");
        }
        return m;
    }

    /** Whether {@code type} is a defined type byte (0x11 and 0x12 are not). */
    static boolean knownType(int type) {
        return type >= JOIN && type <= LAST_TYPE && type != 0x11 && type != 0x12;
    }

    /** The rest of the payload as MESSAGE/ROOM_MESSAGE data, 1..16384 bytes. */
    private static byte[] readData(ByteBuf p) throws ProtocolException {
        int len = p.readableBytes();
        if (len < DATA_MIN || len > DATA_MAX) {
            throw new ProtocolException("data length " + len + " outside " + DATA_MIN + ".." + DATA_MAX);
        }
        byte[] b = new byte[len];
        p.readBytes(b);
        return b;
    }

    private static ProtocolException truncated(String field) {
        return new ProtocolException("truncated payload: missing " + field);
    }

    private static int readU8(ByteBuf p, String field) throws ProtocolException {
        if (p.readableBytes() < 1) {
            throw truncated(field);
        }
        return p.readUnsignedByte();
    }

    private static boolean readFlag(ByteBuf p, String field) throws ProtocolException {
        int v = readU8(p, field);
        if (v > 1) {
            throw new ProtocolException(field + " must be 0 or 1, got " + v);
        }
        return v == 1;
    }

    private static int readU16(ByteBuf p, String field) throws ProtocolException {
        if (p.readableBytes() < 2) {
            throw truncated(field);
        }
        return p.readUnsignedShort();
    }

    private static int readI32(ByteBuf p, String field) throws ProtocolException {
        if (p.readableBytes() < 4) {
            throw truncated(field);
        }
        return p.readInt();
    }

    private static long readU64(ByteBuf p, String field) throws ProtocolException {
        if (p.readableBytes() < 8) {
            throw truncated(field);
        }
        return p.readLong();
    }

    private static byte[] readBytes16(ByteBuf p, String field) throws ProtocolException {
        if (p.readableBytes() < SECRET_LEN) {
            throw truncated(field);
        }
        byte[] b = new byte[SECRET_LEN];
        p.readBytes(b);
        return b;
    }

    private static String readStr(ByteBuf p, String field, int min, int max) throws ProtocolException {
        if (p.readableBytes() < 2) {
            throw truncated(field + " length");
        }
        int len = p.readUnsignedShort();
        if (len > p.readableBytes()) {
            throw truncated(field + " (" + len + " bytes)");
        }
        if (len < min || len > max) {
            throw new ProtocolException(field + " length " + len + " outside " + min + ".." + max);
        }
        int idx = p.readerIndex();
        String s;
        if (p.forEachByte(idx, len, ASCII) == -1) {
            s = p.toString(idx, len, StandardCharsets.US_ASCII);
        } else {
            try {
                s = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(p.nioBuffer(idx, len))
                        .toString();
            } catch (CharacterCodingException e) {
                throw new ProtocolException("invalid UTF-8 in " + field);
            }
        }
        p.skipBytes(len);
        return s;
    }

    // ------------------------------------------------------------------------------------------
    // Encoding
    // ------------------------------------------------------------------------------------------

    /**
     * Appends one whole frame for {@code m} to {@code out}.
     *
     * @throws IllegalArgumentException if a string breaks its field limit (nothing is written then)
     */
    public static void encode(Message m, ByteBuf out) {
        int start = out.writerIndex();
        try {
            out.writeInt(0); // len, patched below
            out.writeByte(VERSION);
            out.writeByte(m.type());
            encodePayload(m, out);
        } catch (RuntimeException e) {
            out.writerIndex(start);
            throw e;
        }
        out.setInt(start, out.writerIndex() - start - LENGTH_FIELD);
    }

    /** Encodes {@code m} into a new buffer from {@code alloc} (the caller owns the buffer). */
    public static ByteBuf encode(Message m, ByteBufAllocator alloc) {
        ByteBuf buf = alloc.buffer(64);
        try {
            encode(m, buf);
            return buf;
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
    }

    /** Encodes {@code m} into a byte array (convenience for tests and blocking clients). */
    public static byte[] encode(Message m) {
        ByteBuf buf = Unpooled.buffer(64);
        encode(m, buf);
        return ByteBufUtil.getBytes(buf);
    }

    private static void encodePayload(Message m, ByteBuf out) {
        // Java 17: no pattern switch; type() identifies the record.
        switch (m.type()) {
            case JOIN -> {
                Message.Join j = (Message.Join) m;
                writeStr(out, "appKey", j.appKey(), APP_KEY_MIN, APP_KEY_MAX);
                writeStr(out, "channel", j.channel(), CHANNEL_MIN, CHANNEL_MAX);
                out.writeLong(j.uid());
                writeStr(out, "token", j.token(), 0, TOKEN_MAX);
                out.writeLong(j.mediaKey());
                out.writeBytes(j.mediaSecret());
            }
            case JOIN_OK -> {
                Message.JoinOk j = (Message.JoinOk) m;
                out.writeLong(j.channelId());
                out.writeLong(j.sessionId());
                out.writeBytes(j.sessionSecret());
                writeStr(out, "mediaHost", j.mediaHost(), MEDIA_HOST_MIN, MEDIA_HOST_MAX);
                out.writeShort(j.mediaPort());
                out.writeLong(j.serverTimeMs());
            }
            case JOIN_ERR -> {
                Message.JoinErr e = (Message.JoinErr) m;
                writeCodeMessage(out, e.code(), e.message());
            }
            case RESUME -> {
                Message.Resume r = (Message.Resume) m;
                out.writeLong(r.sessionId());
                out.writeBytes(r.sessionSecret());
                out.writeLong(r.mediaKey());
                out.writeBytes(r.mediaSecret());
                out.writeLong(r.lastReceived());
            }
            case RESUME_OK -> {
                Message.ResumeOk r = (Message.ResumeOk) m;
                out.writeLong(r.channelId());
                out.writeByte(r.resumed() ? 1 : 0);
                out.writeLong(r.sessionId());
                out.writeBytes(r.sessionSecret());
                writeStr(out, "mediaHost", r.mediaHost(), MEDIA_HOST_MIN, MEDIA_HOST_MAX);
                out.writeShort(r.mediaPort());
                out.writeLong(r.lastAccepted());
            }
            case LEAVE, LEAVE_OK -> {
                // empty payload
            }
            case PEER_JOINED -> out.writeLong(((Message.PeerJoined) m).uid());
            case PEER_LEFT -> {
                Message.PeerLeft p = (Message.PeerLeft) m;
                out.writeLong(p.uid());
                out.writeByte(p.reason());
            }
            case PING -> out.writeLong(((Message.Ping) m).nonce());
            case PONG -> out.writeLong(((Message.Pong) m).nonce());
            case SESSION_END -> {
                Message.SessionEnd e = (Message.SessionEnd) m;
                writeCodeMessage(out, e.code(), e.message());
            }
            case ERROR -> {
                Message.Error e = (Message.Error) m;
                writeCodeMessage(out, e.code(), e.message());
            }
            case TOKEN_WILL_EXPIRE -> out.writeLong(((Message.TokenWillExpire) m).expiresAt());
            case RENEW_TOKEN -> writeStr(out, "token", ((Message.RenewToken) m).token(), 0, TOKEN_MAX);
            case RENEW_TOKEN_RESULT -> {
                Message.RenewTokenResult r = (Message.RenewTokenResult) m;
                out.writeInt(r.code());
                out.writeLong(r.expiresAt());
            }
            case MESSAGE -> {
                Message.MessageFrame f = (Message.MessageFrame) m;
                checkData(f.data().length);
                if (f.target() == 0 && f.toUid() != 0) {
                    throw new IllegalArgumentException("toUid must be 0 when target is 0");
                }
                out.writeLong(f.seq());
                out.writeByte(f.target());
                out.writeLong(f.toUid());
                out.writeBytes(f.data());
            }
            case MESSAGE_ACK -> out.writeLong(((Message.MessageAck) m).seq());
            case ROOM_MESSAGE -> {
                Message.RoomMessage r = (Message.RoomMessage) m;
                checkData(r.data().length);
                out.writeLong(r.fromUid());
                out.writeByte(r.target());
                out.writeBytes(r.data());
            }
            case STREAM_ACK -> out.writeLong(((Message.StreamAck) m).seq());
            default -> throw new IllegalArgumentException("unknown message type " + m.type());
        }
    }

    private static void checkData(int len) {
        if (len < DATA_MIN || len > DATA_MAX) {
            throw new IllegalArgumentException("data is " + len + " bytes, must be " + DATA_MIN + ".." + DATA_MAX);
        }
    }

    /**
     * Encodes one ROOM_MESSAGE frame straight from the data of a MESSAGE, into a buffer from
     * {@code alloc} sized exactly (the caller owns it): the one encoding a fan-out shares.
     */
    public static ByteBuf encodeRoomMessage(long fromUid, int target, byte[] data, ByteBufAllocator alloc) {
        checkData(data.length);
        int len = 2 + 8 + 1 + data.length;
        ByteBuf buf = alloc.buffer(LENGTH_FIELD + len, LENGTH_FIELD + len);
        buf.writeInt(len);
        buf.writeByte(VERSION);
        buf.writeByte(ROOM_MESSAGE);
        buf.writeLong(fromUid);
        buf.writeByte(target);
        buf.writeBytes(data);
        return buf;
    }

    private static void writeCodeMessage(ByteBuf out, int code, String message) {
        out.writeInt(code);
        writeStr(out, "message", message, 0, MESSAGE_MAX);
    }

    private static void writeStr(ByteBuf out, String field, String s, int min, int max) {
        int len = ByteBufUtil.utf8Bytes(s);
        if (len < min || len > max) {
            throw new IllegalArgumentException(field + " is " + len + " UTF-8 bytes, must be " + min + ".." + max);
        }
        out.writeShort(len);
        ByteBufUtil.reserveAndWriteUtf8(out, s, len);
    }
}
