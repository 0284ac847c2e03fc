package io.roomlink.server.protocol;

import java.util.Arrays;
import java.util.Objects;

/**
 * The signaling messages of wire protocol v1 (docs/PROTOCOL.md, "Message types").
 * Unsigned wire integers ({@code u64}, {@code u16}, {@code u8}) are carried in Java's signed
 * types with the same bits: a {@code u64} uid above {@link Long#MAX_VALUE} is a negative long.
 * Byte-length limits of strings are enforced by {@link WireCodec}, not by the constructors.
 * {@code toString()} never prints tokens, session secrets or media secrets.
 */
public sealed interface Message {

    /** The wire type byte ({@code WireCodec.JOIN} …). */
    int type();

    /** C→S 0x01. {@code mediaSecret} keys the session's media AEAD (see {@link MediaKeys}). */
    record Join(String appKey, String channel, long uid, String token, long mediaKey, byte[] mediaSecret)
            implements Message {
        public Join {
            Objects.requireNonNull(appKey, "appKey");
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(token, "token");
            mediaSecret = Secrets.copy(mediaSecret, "mediaSecret");
        }

        @Override
        public byte[] mediaSecret() {
            return mediaSecret.clone();
        }

        @Override
        public int type() {
            return WireCodec.JOIN;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Join m && appKey.equals(m.appKey) && channel.equals(m.channel) && uid == m.uid
                    && token.equals(m.token) && mediaKey == m.mediaKey
                    && Arrays.equals(mediaSecret, m.mediaSecret);
        }

        @Override
        public int hashCode() {
            return Objects.hash(appKey, channel, uid, token, mediaKey, Arrays.hashCode(mediaSecret));
        }

        @Override
        public String toString() {
            return "Join[appKey=" + appKey + ", channel=" + channel + ", uid=" + Long.toUnsignedString(uid)
                    + ", token=<" + token.length() + " chars>, mediaKey=" + Long.toHexString(mediaKey)
                    + ", mediaSecret=<redacted>]";
        }
    }

    /** S→C 0x02. */
    record JoinOk(long channelId, long sessionId, byte[] sessionSecret, String mediaHost, int mediaPort,
                  long serverTimeMs) implements Message {
        public JoinOk {
            sessionSecret = Secrets.copy(sessionSecret);
            Objects.requireNonNull(mediaHost, "mediaHost");
            Secrets.checkPort(mediaPort);
        }

        @Override
        public byte[] sessionSecret() {
            return sessionSecret.clone();
        }

        @Override
        public int type() {
            return WireCodec.JOIN_OK;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof JoinOk m && channelId == m.channelId && sessionId == m.sessionId
                    && Arrays.equals(sessionSecret, m.sessionSecret) && mediaHost.equals(m.mediaHost)
                    && mediaPort == m.mediaPort && serverTimeMs == m.serverTimeMs;
        }

        @Override
        public int hashCode() {
            return Objects.hash(channelId, sessionId, Arrays.hashCode(sessionSecret), mediaHost, mediaPort,
                    serverTimeMs);
        }

        @Override
        public String toString() {
            return "JoinOk[channelId=" + Long.toUnsignedString(channelId) + ", sessionId="
                    + Long.toHexString(sessionId) + ", sessionSecret=<redacted>, mediaHost=" + mediaHost
                    + ", mediaPort=" + mediaPort + ", serverTimeMs=" + serverTimeMs + "]";
        }
    }

    /** S→C 0x03; the server closes the connection after it. */
    record JoinErr(int code, String message) implements Message {
        public JoinErr {
            Objects.requireNonNull(message, "message");
        }

        @Override
        public int type() {
            return WireCodec.JOIN_ERR;
        }
    }

    /** C→S 0x04. {@code mediaSecret} keys the new {@code mediaKey}'s media AEAD. */
    record Resume(long sessionId, byte[] sessionSecret, long mediaKey, byte[] mediaSecret, long lastReceived)
            implements Message {
        public Resume {
            sessionSecret = Secrets.copy(sessionSecret);
            mediaSecret = Secrets.copy(mediaSecret, "mediaSecret");
        }

        /** A RESUME with {@code lastReceived = 0} (nothing of the receiver stream processed yet). */
        public Resume(long sessionId, byte[] sessionSecret, long mediaKey, byte[] mediaSecret) {
            this(sessionId, sessionSecret, mediaKey, mediaSecret, 0);
        }

        @Override
        public byte[] sessionSecret() {
            return sessionSecret.clone();
        }

        @Override
        public byte[] mediaSecret() {
            return mediaSecret.clone();
        }

        @Override
        public int type() {
            return WireCodec.RESUME;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Resume m && sessionId == m.sessionId && mediaKey == m.mediaKey
                    && Arrays.equals(sessionSecret, m.sessionSecret) && Arrays.equals(mediaSecret, m.mediaSecret)
                    && lastReceived == m.lastReceived;
        }

        @Override
        public int hashCode() {
            return Objects.hash(sessionId, mediaKey, Arrays.hashCode(sessionSecret), Arrays.hashCode(mediaSecret),
                    lastReceived);
        }

        @Override
        public String toString() {
            return "Resume[sessionId=" + Long.toHexString(sessionId) + ", sessionSecret=<redacted>, mediaKey="
                    + Long.toHexString(mediaKey) + ", mediaSecret=<redacted>, lastReceived="
                    + Long.toUnsignedString(lastReceived) + "]";
        }
    }

    /** S→C 0x05. {@code resumed} is the wire's u8 flag (1 = same session kept). */
    record ResumeOk(long channelId, boolean resumed, long sessionId, byte[] sessionSecret, String mediaHost,
                    int mediaPort, long lastAccepted) implements Message {
        public ResumeOk {
            sessionSecret = Secrets.copy(sessionSecret);
            Objects.requireNonNull(mediaHost, "mediaHost");
            Secrets.checkPort(mediaPort);
        }

        /** A RESUME_OK with {@code lastAccepted = 0}. */
        public ResumeOk(long channelId, boolean resumed, long sessionId, byte[] sessionSecret, String mediaHost,
                        int mediaPort) {
            this(channelId, resumed, sessionId, sessionSecret, mediaHost, mediaPort, 0);
        }

        @Override
        public byte[] sessionSecret() {
            return sessionSecret.clone();
        }

        @Override
        public int type() {
            return WireCodec.RESUME_OK;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ResumeOk m && channelId == m.channelId && resumed == m.resumed
                    && sessionId == m.sessionId && Arrays.equals(sessionSecret, m.sessionSecret)
                    && mediaHost.equals(m.mediaHost) && mediaPort == m.mediaPort && lastAccepted == m.lastAccepted;
        }

        @Override
        public int hashCode() {
            return Objects.hash(channelId, resumed, sessionId, Arrays.hashCode(sessionSecret), mediaHost,
                    mediaPort, lastAccepted);
        }

        @Override
        public String toString() {
            return "ResumeOk[channelId=" + Long.toUnsignedString(channelId) + ", resumed=" + resumed
                    + ", sessionId=" + Long.toHexString(sessionId) + ", sessionSecret=<redacted>, mediaHost="
                    + mediaHost + ", mediaPort=" + mediaPort + ", lastAccepted=" + Long.toUnsignedString(lastAccepted)
                    + "]";
        }
    }

    /** C→S 0x06. */
    record Leave() implements Message {
        public static final Leave INSTANCE = new Leave();

        @Override
        public int type() {
            return WireCodec.LEAVE;
        }
    }

    /** S→C 0x07; the server closes the connection after it. */
    record LeaveOk() implements Message {
        public static final LeaveOk INSTANCE = new LeaveOk();

        @Override
        public int type() {
            return WireCodec.LEAVE_OK;
        }
    }

    /** S→C 0x08. */
    record PeerJoined(long uid) implements Message {
        @Override
        public int type() {
            return WireCodec.PEER_JOINED;
        }
    }

    /** S→C 0x09. {@code reason} is one of the {@code REASON_*} constants (any u8 decodes). */
    record PeerLeft(long uid, int reason) implements Message {
        public static final int REASON_NORMAL = 0;
        public static final int REASON_FAILOVER = 1;
        public static final int REASON_UPDATE = 2;
        public static final int REASON_KICKED = 3;
        public static final int REASON_TIMEOUT = 4;

        public PeerLeft {
            if (reason < 0 || reason > 0xFF) {
                throw new IllegalArgumentException("reason must fit in u8: " + reason);
            }
        }

        @Override
        public int type() {
            return WireCodec.PEER_LEFT;
        }
    }

    /** C→S 0x0A. */
    record Ping(long nonce) implements Message {
        @Override
        public int type() {
            return WireCodec.PING;
        }
    }

    /** S→C 0x0B. */
    record Pong(long nonce) implements Message {
        @Override
        public int type() {
            return WireCodec.PONG;
        }
    }

    /** S→C 0x0C; the server closes the connection after it. */
    record SessionEnd(int code, String message) implements Message {
        public SessionEnd {
            Objects.requireNonNull(message, "message");
        }

        @Override
        public int type() {
            return WireCodec.SESSION_END;
        }
    }

    /** S→C 0x0D (wire name {@code ERROR}): protocol error; the server closes the connection after it. */
    record Error(int code, String message) implements Message {
        public Error {
            Objects.requireNonNull(message, "message");
        }

        @Override
        public int type() {
            return WireCodec.ERROR;
        }
    }

    /**
     * S→C 0x0E: the session's token expires at {@code expiresAt} (epoch seconds, u64); renew it
     * with {@link RenewToken} before then or the server ends the session.
     */
    record TokenWillExpire(long expiresAt) implements Message {
        @Override
        public int type() {
            return WireCodec.TOKEN_WILL_EXPIRE;
        }
    }

    /** C→S 0x0F: a fresh token for the same appKey, channel and uid. */
    record RenewToken(String token) implements Message {
        public RenewToken {
            Objects.requireNonNull(token, "token");
        }

        @Override
        public int type() {
            return WireCodec.RENEW_TOKEN;
        }

        @Override
        public String toString() {
            return "RenewToken[token=<" + token.length() + " chars>]";
        }
    }

    /**
     * S→C 0x10: the answer to {@link RenewToken}. {@code code} 0 = accepted, else the error code
     * (31001); {@code expiresAt} is the session's expiry now in effect (the old one on refusal).
     */
    record RenewTokenResult(int code, long expiresAt) implements Message {
        @Override
        public int type() {
            return WireCodec.RENEW_TOKEN_RESULT;
        }
    }

    /**
     * C→S 0x13 (wire name {@code MESSAGE}): a reliable room message; {@code target} 0 = every
     * other member ({@code toUid} 0), 1 = the member {@code toUid}; {@code data} 1..16384 bytes.
     */
    record MessageFrame(long seq, int target, long toUid, byte[] data) implements Message {
        public static final int TARGET_ALL = 0;
        public static final int TARGET_ONE = 1;

        public MessageFrame {
            Objects.requireNonNull(data, "data");
            if (target != TARGET_ALL && target != TARGET_ONE) {
                throw new IllegalArgumentException("target must be 0 or 1: " + target);
            }
        }

        @Override
        public int type() {
            return WireCodec.MESSAGE;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof MessageFrame m && seq == m.seq && target == m.target && toUid == m.toUid
                    && Arrays.equals(data, m.data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(seq, target, toUid, Arrays.hashCode(data));
        }

        @Override
        public String toString() {
            return "MessageFrame[seq=" + Long.toUnsignedString(seq) + ", target=" + target + ", toUid="
                    + Long.toUnsignedString(toUid) + ", data=<" + data.length + " bytes>]";
        }
    }

    /** S→C 0x14: cumulative: every MESSAGE of the session up to {@code seq} was taken. */
    record MessageAck(long seq) implements Message {
        @Override
        public int type() {
            return WireCodec.MESSAGE_ACK;
        }
    }

    /** S→C 0x15: an item of the receiver stream: a message from {@code fromUid}. */
    record RoomMessage(long fromUid, int target, byte[] data) implements Message {
        public RoomMessage {
            Objects.requireNonNull(data, "data");
            if (target != MessageFrame.TARGET_ALL && target != MessageFrame.TARGET_ONE) {
                throw new IllegalArgumentException("target must be 0 or 1: " + target);
            }
        }

        @Override
        public int type() {
            return WireCodec.ROOM_MESSAGE;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RoomMessage m && fromUid == m.fromUid && target == m.target
                    && Arrays.equals(data, m.data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(fromUid, target, Arrays.hashCode(data));
        }

        @Override
        public String toString() {
            return "RoomMessage[fromUid=" + Long.toUnsignedString(fromUid) + ", target=" + target + ", data=<"
                    + data.length + " bytes>]";
        }
    }

    /** C→S 0x16: cumulative: the client processed every receiver-stream item up to {@code seq}. */
    record StreamAck(long seq) implements Message {
        @Override
        public int type() {
            return WireCodec.STREAM_ACK;
        }
    }

    /** Helpers shared by the records holding a {@code bytes16} secret. */
    final class Secrets {
        private Secrets() {
        }

        static byte[] copy(byte[] secret) {
            return copy(secret, "sessionSecret");
        }

        static byte[] copy(byte[] secret, String name) {
            Objects.requireNonNull(secret, name);
            if (secret.length != WireCodec.SECRET_LEN) {
                throw new IllegalArgumentException(name + " must be " + WireCodec.SECRET_LEN + " bytes, got "
                        + secret.length);
            }
            return secret.clone();
        }

        static void checkPort(int port) {
            if (port < 0 || port > 0xFFFF) {
                throw new IllegalArgumentException("mediaPort must fit in u16: " + port);
            }
        }
    }
}
