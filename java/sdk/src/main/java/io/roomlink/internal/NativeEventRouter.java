package io.roomlink.internal;

import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives every engine's native events on the native loop threads and hands each to its
 * engine's sink, which only queues it: no app code ever runs on a loop thread. One callback
 * object serves all engines and is held in a static final field, so it stays reachable for
 * as long as native code may call it.
 */
public final class NativeEventRouter {
    private static final Logger LOG = LoggerFactory.getLogger(NativeEventRouter.class);

    /** Where one engine's events go. Implementations must only queue, never block. */
    public interface Sink {
        void onNativeEvent(int type, int a, int b, long x, long y, long z, long monoNs);
    }

    private static final ConcurrentHashMap<Long, Sink> SINKS = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_ID = new AtomicLong(1);
    public static final NativeApi.EventCallback CALLBACK = new Router();

    static {
        // Keep loop threads attached to the JVM between events: attaching costs far more than an event.
        Native.setCallbackThreadInitializer(CALLBACK, new CallbackThreadInitializer(true, false, "roomlink-loop"));
    }

    private NativeEventRouter() {
    }

    /** Registers a sink and returns the token that native code passes back as its user pointer. */
    public static Pointer register(Sink sink) {
        long id = NEXT_ID.getAndIncrement();
        SINKS.put(id, sink);
        return new Pointer(id);
    }

    public static void unregister(Pointer token) {
        SINKS.remove(Pointer.nativeValue(token));
    }

    private static final class Router implements NativeApi.EventCallback {
        @Override
        public void invoke(Pointer user, int type, int a, int b, long x, long y, long z, long monoNs) {
            try {
                Sink sink = SINKS.get(Pointer.nativeValue(user));
                if (sink != null) {
                    sink.onNativeEvent(type, a, b, x, y, z, monoNs);
                }
            } catch (Throwable t) {
                // Never let an exception unwind into native code.
                LOG.error("dropping native event type {}", type, t);
            }
        }
    }
}
