package io.roomlink.demo;

import io.roomlink.ConnectionState;
import io.roomlink.RoomEngine;
import io.roomlink.RoomEngineConfig;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Replays the reference SDK's reconnect story against an embedded server: user A reaches the
 * server through its own FaultProxy (A's "network"), user B directly.
 * <ol>
 *   <li>A and B are in a room;</li>
 *   <li>A's network drops for a few seconds and comes back: B sees nothing;</li>
 *   <li>A drops for longer than the server's grace period: B sees A leave (TIMEOUT), then join again;</li>
 *   <li>A drops for good: A gives up with FAILED/TIMEOUT.</li>
 * </ol>
 * Every callback is printed with a millisecond timestamp, then a timeline per user. Exits 0, or
 * 1 if a step did not happen in time.
 */
public final class Demo {
    private static final String APP_KEY = "demo";
    private static final String CHANNEL = "room-1";
    private static final Duration GRACE = Duration.ofSeconds(4);
    private static final Duration RECONNECT_TIMEOUT = Duration.ofSeconds(8);
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(20);

    private Demo() {
    }

    public static void main(String[] args) {
        Timeline timeline = new Timeline();
        try (TestRoomServer rooms = TestRoomServer.builder().sessionGrace(GRACE).start()) {
            FaultProxy networkOfA = rooms.newFaultProxy();
            timeline.note("server", "signal tcp/" + rooms.serverSignalPort() + ", media udp/"
                    + rooms.serverMediaPort() + ", session grace " + GRACE.toSeconds() + " s; A's network: proxy tcp/"
                    + networkOfA.signalPort() + " udp/" + networkOfA.mediaPort());
            RoomEngineConfig base = RoomEngineConfig.builder().appKey(APP_KEY)
                    .server("127.0.0.1", rooms.serverSignalPort()).trustedCertificates(rooms.trustedCertificatesPem())
                    .reconnectTimeout(RECONNECT_TIMEOUT).build();
            // Inside TLS the proxy cannot rewrite the media address: A is told to use the proxy's.
            RoomEngineConfig viaProxy = base.toBuilder().server("127.0.0.1", networkOfA.signalPort())
                    .mediaAddressOverride(networkOfA.host(), networkOfA.mediaPort()).build();
            PrintingListener a = new PrintingListener("A", timeline);
            PrintingListener b = new PrintingListener("B", timeline);
            try (RoomEngine userA = RoomEngine.create(viaProxy, a); RoomEngine userB = RoomEngine.create(base, b)) {
                chapter(timeline, "1. A and B join the room");
                timeline.note("A", "joinChannel -> " + userA.joinChannel(rooms.token(APP_KEY, CHANNEL, 1), CHANNEL, 1));
                a.await("onJoinChannel", STEP_TIMEOUT);
                timeline.note("B", "joinChannel -> " + userB.joinChannel(rooms.token(APP_KEY, CHANNEL, 2), CHANNEL, 2));
                b.await("onUserJoined(1)", STEP_TIMEOUT);
                a.await("onUserJoined(2)", STEP_TIMEOUT);

                chapter(timeline, "2. A's network drops for 3 s (within grace): B sees nothing");
                outage(timeline, networkOfA, Duration.ofSeconds(3));
                a.await("onRejoinChannel", STEP_TIMEOUT);

                chapter(timeline, "3. A's network drops for 7 s (longer than the " + GRACE.toSeconds()
                        + " s grace): B sees A leave, then join again");
                outage(timeline, networkOfA, Duration.ofSeconds(7));
                b.await("onUserJoined(1)", STEP_TIMEOUT, 2);
                a.await("onRejoinChannel", STEP_TIMEOUT, 2);

                chapter(timeline, "4. A's network drops for good: A gives up after " + RECONNECT_TIMEOUT.toSeconds() + " s");
                networkOfA.blackhole(Path.BOTH, Direction.BOTH);
                timeline.note("net", "A's network is down");
                a.await("onDisconnect", STEP_TIMEOUT);
                b.await("onUserLeave(1", STEP_TIMEOUT, 2);
                check(userA.getConnectionState() == ConnectionState.FAILED, "A is FAILED");

                timeline.note("B", "leaveChannel -> " + userB.leaveChannel());
                b.await("onLeaveChannel", STEP_TIMEOUT);
            }
        } catch (RuntimeException e) {
            System.err.println("demo failed: " + e.getMessage());
            System.exit(1);
        }
        timeline.printSummary();
        System.exit(0);
    }

    private static void chapter(Timeline timeline, String title) {
        timeline.note("----", title);
    }

    private static void outage(Timeline timeline, FaultProxy network, Duration length) {
        network.blackhole(Path.BOTH, Direction.BOTH);
        timeline.note("net", "A's network is down");
        long until = System.nanoTime() + length.toNanos();
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
        network.restore();
        timeline.note("net", "A's network is back after " + length.toSeconds() + " s");
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException("expected: " + what);
        }
    }
}
