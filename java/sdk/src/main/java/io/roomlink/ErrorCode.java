package io.roomlink;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * Result and error codes returned by API calls and carried by callbacks. 30xxx are the reference
 * SDK's values; 31xxx are roomlink's own. The same values are defined in the C header.
 */
public final class ErrorCode {
    public static final int OK = 0;
    public static final int ALREADY_JOINED = 30100;
    public static final int NOT_JOINED = 30101;
    public static final int MEDIA_DISCONNECTED = 30204;
    public static final int SIGNAL_DISCONNECTED = 30205;
    public static final int SERVER_KICKED = 30206;
    public static final int CHANNEL_CLOSED = 30207;
    public static final int SAME_UID_LOGIN = 30209;
    public static final int INVALID_TOKEN = 31001;
    public static final int INVALID_ARGUMENT = 31002;
    public static final int JOIN_TIMEOUT = 31003;
    public static final int CONNECT_FAILED = 31004;
    public static final int MEDIA_BIND_TIMEOUT = 31005;
    public static final int PROTOCOL_ERROR = 31006;
    public static final int ENGINE_CLOSED = 31007;
    public static final int RECONNECT_TIMEOUT = 31008;
    public static final int SERVER_SHUTDOWN = 31009;
    /**
     * {@link RoomEngine#sendMessage}: the engine's accepted messages not yet acknowledged by the
     * server would exceed {@link RoomEngineConfig.Builder#messageQueueLimit(int)}; retry later.
     */
    public static final int MESSAGE_QUEUE_FULL = 31010;
    /** onDisconnect: the token expired and was not renewed in time ({@link RoomEngine#renewToken}). */
    public static final int TOKEN_EXPIRED = 31020;
    /** onJoinChannel: the uid is already in the channel and the server keeps the first login. */
    public static final int SAME_UID_REJECTED = 31021;
    /**
     * The server refused the join because one of its limits was reached: the channel is full, the
     * server holds its maximum of channels, or too many joins came from this address. A join gets
     * FAILED/REQUEST_CHANNEL_FAILED and {@code onJoinChannel(31022)}; a reconnect that meets it keeps
     * retrying (with backoff, until {@code reconnectTimeout}).
     */
    public static final int SERVER_LIMIT = 31022;
    /**
     * The server ended the session because this receiver fell behind by more than the server's
     * replay buffer (it stayed away, or did not read, while the room kept sending). The engine
     * joins afresh on its own; messages sent to the room in between are not owed to it.
     */
    public static final int REPLAY_OVERFLOW = 31023;
    public static final int INTERNAL = 31099;

    private static final Map<Integer, String> NAMES = names();

    private ErrorCode() {
    }

    /** The constant's name, such as {@code "ALREADY_JOINED"}, or {@code "UNKNOWN(123)"}. */
    public static String nameOf(int code) {
        String name = NAMES.get(code);
        return name != null ? name : "UNKNOWN(" + code + ")";
    }

    private static Map<Integer, String> names() {
        Map<Integer, String> names = new HashMap<>();
        for (Field field : ErrorCode.class.getDeclaredFields()) {
            int mod = field.getModifiers();
            if (field.getType() == int.class && Modifier.isStatic(mod) && Modifier.isPublic(mod)) {
                try {
                    names.put(field.getInt(null), field.getName());
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return Map.copyOf(names);
    }
}
