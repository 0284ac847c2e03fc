package io.roomlink;

import io.roomlink.testkit.ScriptedServer;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/** Shared by the HostileServer*Test classes: a slow counting listener, heap and close() probes. */
final class HostileServerSupport {
    private HostileServerSupport() {
    }

    /** An app whose presence callbacks take {@code presenceNanos} each; counts what it is told. */
    static final class SlowListener implements RoomEngineListener {
        final long presenceNanos;
        final AtomicInteger joined = new AtomicInteger();
        final AtomicInteger left = new AtomicInteger();
        final AtomicInteger connectedTimes = new AtomicInteger();
        final AtomicInteger reconnecting = new AtomicInteger();
        volatile ConnectionState state = ConnectionState.DISCONNECTED;

        SlowListener(long presenceNanos) {
            this.presenceNanos = presenceNanos;
        }

        @Override
        public void onConnectionStateChanged(ConnectionState s, ConnectionStateChangeReason reason) {
            state = s;
            if (s == ConnectionState.CONNECTED) {
                connectedTimes.incrementAndGet();
            } else if (s == ConnectionState.RECONNECTING) {
                reconnecting.incrementAndGet();
            }
        }

        @Override
        public void onUserJoined(long uid) {
            joined.incrementAndGet();
            LockSupport.parkNanos(presenceNanos);
        }

        @Override
        public void onUserLeave(long uid, UserLeaveReason reason) {
            left.incrementAndGet();
            LockSupport.parkNanos(presenceNanos);
        }
    }

    /** Heap in use after a full collection, in bytes. */
    static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Closes the engine and returns how long close() took. */
    static Duration timedClose(RoomEngine engine) {
        long start = System.nanoTime();
        engine.close();
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /**
     * The one place the suite configures engines for a ScriptedServer, which speaks plaintext:
     * once TLS is the default this is where {@code .plaintext(true)} goes.
     */
    static RoomEngineConfig.Builder config(ScriptedServer server) {
        return Fixtures.config(server.signalPort()).plaintext(true); // ScriptedServer speaks the plaintext wire
    }

    static RoomEngine joined(ScriptedServer server, RoomEngineConfig.Builder config, SlowListener listener) {
        RoomEngine engine = RoomEngine.create(config.build(), listener);
        if (engine.joinChannel("", "room", 42) != ErrorCode.OK) {
            throw new AssertionError("join refused");
        }
        Fixtures.awaitTrue(() -> listener.state == ConnectionState.CONNECTED, Fixtures.WAIT, "CONNECTED");
        return engine;
    }
}
