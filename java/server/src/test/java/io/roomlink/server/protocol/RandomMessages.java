package io.roomlink.server.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.util.SplittableRandom;

/** Random valid signaling messages of every type, fields anywhere within their limits. */
final class RandomMessages {
    private static final String ALPHABET = "abcXYZ019-_. é房间😀";

    private final SplittableRandom random;

    RandomMessages(SplittableRandom random) {
        this.random = random;
    }

    byte[] frame() {
        ByteBuf buf = Unpooled.buffer();
        WireCodec.encode(message(), buf);
        return ByteBufUtil.getBytes(buf);
    }

    Message message() {
        int type = WireCodec.JOIN + random.nextInt(WireCodec.ERROR + 4);
        if (type > WireCodec.ERROR) {
            type = type - WireCodec.ERROR - 1 + WireCodec.MESSAGE; // the message frames, 0x13..0x16
        }
        return switch (type) {
            case WireCodec.JOIN -> new Message.Join(str(1, WireCodec.APP_KEY_MAX), str(1, WireCodec.CHANNEL_MAX),
                    random.nextLong(), str(0, WireCodec.TOKEN_MAX), random.nextLong(), new byte[16]);
            case WireCodec.JOIN_OK -> new Message.JoinOk(random.nextLong(), random.nextLong(), secret(),
                    str(1, WireCodec.MEDIA_HOST_MAX), random.nextInt(65536), random.nextLong());
            case WireCodec.JOIN_ERR -> new Message.JoinErr(random.nextInt(), str(0, WireCodec.MESSAGE_MAX));
            case WireCodec.RESUME -> new Message.Resume(random.nextLong(), secret(), random.nextLong(), new byte[16],
                    random.nextLong());
            case WireCodec.RESUME_OK -> new Message.ResumeOk(random.nextLong(), random.nextBoolean(),
                    random.nextLong(), secret(), str(1, WireCodec.MEDIA_HOST_MAX), random.nextInt(65536),
                    random.nextLong());
            case WireCodec.MESSAGE -> {
                int target = random.nextInt(2);
                yield new Message.MessageFrame(random.nextLong(), target, target == 0 ? 0 : random.nextLong(), data());
            }
            case WireCodec.MESSAGE_ACK -> new Message.MessageAck(random.nextLong());
            case WireCodec.ROOM_MESSAGE -> new Message.RoomMessage(random.nextLong(), random.nextInt(2), data());
            case WireCodec.STREAM_ACK -> new Message.StreamAck(random.nextLong());
            case WireCodec.LEAVE -> Message.Leave.INSTANCE;
            case WireCodec.LEAVE_OK -> Message.LeaveOk.INSTANCE;
            case WireCodec.PEER_JOINED -> new Message.PeerJoined(random.nextLong());
            case WireCodec.PEER_LEFT -> new Message.PeerLeft(random.nextLong(), random.nextInt(256));
            case WireCodec.PING -> new Message.Ping(random.nextLong());
            case WireCodec.PONG -> new Message.Pong(random.nextLong());
            case WireCodec.SESSION_END -> new Message.SessionEnd(random.nextInt(), str(0, WireCodec.MESSAGE_MAX));
            default -> new Message.Error(random.nextInt(), str(0, WireCodec.MESSAGE_MAX));
        };
    }

    /** MESSAGE data: 1..16384 bytes, short ones likelier, the limit itself too. */
    private byte[] data() {
        int n = random.nextInt(8) == 0 ? WireCodec.DATA_MAX : 1 + random.nextInt(64);
        byte[] d = new byte[n];
        random.nextBytes(d);
        return d;
    }

    private byte[] secret() {
        byte[] s = new byte[WireCodec.SECRET_LEN];
        random.nextBytes(s);
        return s;
    }

    /** A string of minBytes..maxBytes UTF-8 bytes; short ones are likelier, the limit itself too. */
    private String str(int minBytes, int maxBytes) {
        int target = random.nextInt(4) == 0 ? maxBytes : minBytes + random.nextInt(Math.min(maxBytes - minBytes, 40) + 1);
        StringBuilder sb = new StringBuilder();
        int bytes = 0;
        while (bytes < target) {
            int cp = ALPHABET.codePointAt(ALPHABET.offsetByCodePoints(0, random.nextInt(ALPHABET.codePointCount(0,
                    ALPHABET.length()))));
            int n = new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (bytes + n > target) {
                cp = 'a';
                n = 1;
            }
            sb.appendCodePoint(cp);
            bytes += n;
        }
        return sb.toString();
    }
}
