package io.roomlink;

/**
 * Callbacks from one engine. Every method has a no-op default, so implement only what you need.
 *
 * <p>Callbacks for one engine arrive one at a time and in order, never on a native thread:
 * on the engine's callback executor if the config set one, otherwise on roomlink's shared
 * dispatch threads. A listener that throws is logged and the next callback still arrives.
 * No callback arrives after {@link RoomEngine#close()} returns.
 */
public interface RoomEngineListener {
    /**
     * The outcome of joinChannel.
     *
     * @param result {@link ErrorCode#OK} or the reason the join failed
     * @param channelId the channel's numeric id, the same for every member (0 on failure)
     * @param elapsedMs time from joinChannel to this result
     * @param uid this user's id
     */
    default void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
    }

    /** The outcome of leaveChannel; {@code result} is {@link ErrorCode#OK}. */
    default void onLeaveChannel(int result) {
    }

    /** The engine is back in the channel after an outage. */
    default void onRejoinChannel(int result, long channelId) {
    }

    /** The connection broke and the engine has started to reconnect on its own. */
    default void onReconnectingStart() {
    }

    /**
     * The engine left the channel without the app asking: kicked, channel closed, the same uid
     * joined elsewhere, or reconnecting gave up. {@code reason} is an {@link ErrorCode}.
     */
    default void onDisconnect(int reason) {
    }

    /** Every state change, with its reason, exactly once and in order. */
    default void onConnectionStateChanged(ConnectionState state, ConnectionStateChangeReason reason) {
    }

    /** A remote user is in the channel: joined after us, or was there when we joined. */
    default void onUserJoined(long uid) {
    }

    /** A remote user left the channel. */
    default void onUserLeave(long uid, UserLeaveReason reason) {
    }

    /**
     * The join token expires soon (the server's warning lead, 30 s by default, before it does):
     * get a fresh one from your app server and hand it to {@link RoomEngine#renewToken}. Without
     * one the server ends the session when the token expires:
     * {@code onConnectionStateChanged(DISCONNECTED, BE_KICKED)} and
     * {@code onDisconnect(ErrorCode.TOKEN_EXPIRED)}. Only servers that enforce token expiry send it.
     */
    default void onTokenWillExpire() {
    }

    /**
     * The server's answer to {@link RoomEngine#renewToken}: {@link ErrorCode#OK}, the session now
     * lasts as long as the new token; or {@link ErrorCode#INVALID_TOKEN}, the token was refused
     * (bad signature, expired, for another channel or uid, or valid for longer than the server
     * allows) and the session keeps its old expiry, so renew again before it.
     */
    default void onRenewTokenResult(int result) {
    }

    /**
     * What the path to the server runs over: once after joining, then on every change (for
     * example {@link ConnectionType#NONE} while the link is down). Not called when
     * {@link RoomEngineConfig.Builder#networkWatcher(boolean)} is off.
     */
    default void onConnectionTypeChanged(ConnectionType type) {
    }

    /**
     * A room message from {@code fromUid} ({@link RoomEngine#sendMessage}): exactly once and in
     * the order that member sent them, never before that member's {@link #onUserJoined} nor after
     * its {@link #onUserLeave}. {@code data} is this callback's own copy.
     */
    default void onMessage(long fromUid, byte[] data) {
    }

    /**
     * The session ended (reconnecting gave up, kicked, channel closed, the same uid joined
     * elsewhere, token expired, or a leave whose linger ended first) holding {@code count}
     * messages that {@link RoomEngine#sendMessage} accepted and the server never acknowledged:
     * they may or may not have reached the room. {@code reason} is the {@link #onDisconnect} code,
     * or {@link ErrorCode#SIGNAL_DISCONNECTED} for such a leave. Called only when {@code count > 0};
     * an accepted message is never lost without it.
     */
    default void onMessagesUndelivered(int count, int reason) {
    }
}
