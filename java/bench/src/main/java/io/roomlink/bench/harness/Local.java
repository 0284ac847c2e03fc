package io.roomlink.bench.harness;

import io.roomlink.ConnectionState;
import io.roomlink.ErrorCode;
import io.roomlink.RoomEngine;
import io.roomlink.RoomEngineConfig;
import io.roomlink.RoomEngineListener;
import io.roomlink.server.SelfSignedCertificate;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/** Helpers for the in-process scenarios: engines in this JVM, a TestRoomServer, FaultProxys on loopback. */
public final class Local {
    public static final String APP_KEY = "bench";
    public static final Duration WAIT = Duration.ofSeconds(15);

    private Local() {
    }

    /** One engine with its probe, joined through {@code proxy} (null: straight to the server). */
    public record Member(RoomEngine engine, Probe probe, FaultProxy proxy, String channel, long uid) implements AutoCloseable {
        @Override
        public void close() {
            engine.close();
        }
    }

    /**
     * An engine for the in-process test server on {@code port}: TLS trusting this JVM's
     * self-signed certificate, and a FaultProxy's media address when {@code port} is a proxy's.
     */
    public static RoomEngineConfig.Builder config(int port) {
        RoomEngineConfig.Builder b = RoomEngineConfig.builder().appKey(APP_KEY).server("127.0.0.1", port)
                .trustedCertificates(SelfSignedCertificate.shared().pem());
        FaultProxy.withSignalPort(port).ifPresent(p -> b.mediaAddressOverride(p.host(), p.mediaPort()));
        return b;
    }

    /** Creates an engine and starts joining; does not wait. */
    public static Member startJoin(TestRoomServer rooms, FaultProxy proxy, UnaryOperator<RoomEngineConfig.Builder> knobs,
                            String channel, long uid) {
        return startJoin(rooms, proxy, knobs, channel, uid, p -> p);
    }

    /**
     * As {@link #startJoin(TestRoomServer, FaultProxy, UnaryOperator, String, long)}, with the listener
     * {@code listener} makes around the member's probe (one that also records messages, say).
     */
    public static Member startJoin(TestRoomServer rooms, FaultProxy proxy, UnaryOperator<RoomEngineConfig.Builder> knobs,
                            String channel, long uid, Function<Probe, RoomEngineListener> listener) {
        int port = proxy != null ? proxy.signalPort() : rooms.serverSignalPort();
        Probe probe = new Probe(channel + "/" + uid);
        RoomEngine engine = RoomEngine.create(knobs.apply(config(port)).build(), listener.apply(probe));
        int rc = engine.joinChannel(rooms.token(APP_KEY, channel, uid), channel, uid);
        if (rc != ErrorCode.OK) {
            engine.close();
            throw new CheckFailed("joinChannel returned " + ErrorCode.nameOf(rc));
        }
        return new Member(engine, probe, proxy, channel, uid);
    }

    /** Waits until the member's join succeeded (onJoinChannel(0) and the core says CONNECTED). */
    public static void awaitJoined(Member m) {
        Probe.Ev e = m.probe().require(0, ev -> ev.kind() == Probe.Kind.JOIN, WAIT, "onJoinChannel");
        CheckFailed.check(e.code() == ErrorCode.OK, m.probe().name + ": join failed: " + ErrorCode.nameOf(e.code()));
        CheckFailed.check(m.engine().getConnectionState() == ConnectionState.CONNECTED,
                m.probe().name + ": joined but not CONNECTED");
    }

    static Member join(TestRoomServer rooms, FaultProxy proxy, UnaryOperator<RoomEngineConfig.Builder> knobs,
                       String channel, long uid) {
        Member m = startJoin(rooms, proxy, knobs, channel, uid);
        try {
            awaitJoined(m);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** Polls the core's state until CONNECTED; fails the checks after {@link #WAIT}. */
    public static void awaitConnected(Member m) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (m.engine().getConnectionState() != ConnectionState.CONNECTED) {
            CheckFailed.check(System.nanoTime() < deadline, m.probe().name + ": not CONNECTED again within "
                    + WAIT.toMillis() + " ms; events: " + m.probe().since(Math.max(0, m.probe().size() - 8)));
            sleepMillis(5);
        }
    }

    public static void sleepUntil(long nanos) {
        long left;
        while ((left = nanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    public static void sleepMillis(long ms) {
        sleepUntil(System.nanoTime() + ms * 1_000_000L);
    }

    public static double ms(long nanos) {
        return nanos / 1e6;
    }
}
