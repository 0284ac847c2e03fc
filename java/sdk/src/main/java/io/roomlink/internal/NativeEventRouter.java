package io.roomlink.internal;

import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.ConnectionType;
import io.roomlink.RoomEngine;
import io.roomlink.RoomEngineListener;
import io.roomlink.UserLeaveReason;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives every engine's native events on the native loop threads, decodes each into the call
 * on its engine's {@link RoomEngineListener} and hands that to the engine's sink, which only
 * queues it: no app code ever runs on a loop thread. One callback object serves all engines and
 * is held in a static final field, so it stays reachable for as long as native code may call it.
 *
 * <p>{@link #decode} is the only Java code that knows the a/b/x/y/z layout of {@code rl_event_fn}
 * (its C++ counterpart is {@code native/src/event_emitter.h}).
 */
public final class NativeEventRouter {
    private static final Logger LOG = LoggerFactory.getLogger(NativeEventRouter.class);

    /** Where one engine's decoded events go. Implementations must only queue, never block. */
    public interface Sink {
        /**
         * {@code callback} calls the listener; {@code monoNs} is when the core emitted the event;
         * {@code uid} is the peer of a USER_JOINED / USER_LEFT event (0 for the others).
         */
        void onNativeEvent(int type, long uid, long monoNs, Runnable callback);
    }

    private record Route(RoomEngineListener listener, Sink sink) {
    }

    private static final ConcurrentHashMap<Long, Route> ROUTES = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_ID = new AtomicLong(1);
    public static final NativeApi.EventCallback CALLBACK = new Router();

    static {
        // Keep loop threads attached to the JVM between events: attaching costs far more than an event.
        Native.setCallbackThreadInitializer(CALLBACK, new CallbackThreadInitializer(true, false, "roomlink-loop"));
    }

    private NativeEventRouter() {
    }

    /**
     * Registers one engine's listener and the sink that queues calls on it, and returns the token
     * that native code passes back as its user pointer.
     */
    public static Pointer register(RoomEngineListener listener, Sink sink) {
        long id = NEXT_ID.getAndIncrement();
        ROUTES.put(id, new Route(listener, sink));
        return new Pointer(id);
    }

    public static void unregister(Pointer token) {
        ROUTES.remove(Pointer.nativeValue(token));
    }

    /**
     * The listener call one native event stands for, or null for a type this SDK does not know.
     * The layout per type is documented with {@code rl_event_type} in roomlink.h.
     */
    static Runnable decode(RoomEngineListener listener, int type, int a, int b, long x, long y, long z) {
        return switch (type) {
            case NativeApi.EVENT_STATE_CHANGED -> () -> listener.onConnectionStateChanged(
                    ConnectionState.fromCode(a), ConnectionStateChangeReason.fromCode(b));
            case NativeApi.EVENT_JOIN_RESULT -> () -> listener.onJoinChannel(a, x, y, z);
            case NativeApi.EVENT_REJOIN_RESULT -> () -> listener.onRejoinChannel(a, x);
            case NativeApi.EVENT_LEAVE_RESULT -> () -> listener.onLeaveChannel(a);
            case NativeApi.EVENT_RECONNECTING_START -> listener::onReconnectingStart;
            case NativeApi.EVENT_DISCONNECT -> () -> listener.onDisconnect(a);
            case NativeApi.EVENT_USER_JOINED -> () -> listener.onUserJoined(x);
            case NativeApi.EVENT_USER_LEFT -> () -> listener.onUserLeave(x, UserLeaveReason.fromCode(a));
            case NativeApi.EVENT_TOKEN_WILL_EXPIRE -> listener::onTokenWillExpire;
            case NativeApi.EVENT_RENEW_TOKEN_RESULT -> () -> listener.onRenewTokenResult(a);
            case NativeApi.EVENT_CONNECTION_TYPE -> () -> listener.onConnectionTypeChanged(ConnectionType.fromCode(a));
            case NativeApi.EVENT_MESSAGE -> message(listener, a, x, y);
            case NativeApi.EVENT_MESSAGES_UNDELIVERED -> () -> listener.onMessagesUndelivered(a, b);
            default -> null;
        };
    }

    /** The data lives only during the native callback: copy it now, on the loop thread. */
    private static Runnable message(RoomEngineListener listener, int length, long fromUid, long address) {
        if (address == 0 || length < 1 || length > RoomEngine.MAX_MESSAGE_BYTES) {
            LOG.warn("dropping a malformed message event (length {})", length);
            return null;
        }
        byte[] data = new Pointer(address).getByteArray(0, length);
        return () -> listener.onMessage(fromUid, data);
    }

    private static final class Router implements NativeApi.EventCallback {
        @Override
        public void invoke(Pointer user, int type, int a, int b, long x, long y, long z, long monoNs) {
            try {
                Route route = ROUTES.get(Pointer.nativeValue(user));
                if (route == null) {
                    return;
                }
                Runnable callback = decode(route.listener(), type, a, b, x, y, z);
                if (callback == null) {
                    LOG.debug("ignoring native event of unknown type {}", type);
                    return;
                }
                boolean presence = type == NativeApi.EVENT_USER_JOINED || type == NativeApi.EVENT_USER_LEFT;
                route.sink().onNativeEvent(type, presence ? x : 0, monoNs, callback);
            } catch (Throwable t) {
                // Never let an exception unwind into native code.
                LOG.error("dropping native event type {}", type, t);
            }
        }
    }
}
