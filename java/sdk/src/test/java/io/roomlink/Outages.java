package io.roomlink;


import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/** Helpers for tests that break a client's network. */
final class Outages {
    /** What the app is told of a lost signal connection that a RESUME brings back, in order. */
    static final List<String> SIGNAL_RESUMED = List.of("state(RECONNECTING, SIGNAL_DISCONNECTED)",
            "onReconnectingStart()", "state(CONNECTED, REJOIN_SUCCEED)", "onRejoinChannel(OK)");

    private Outages() {
    }

    /** {@link Fixtures#config(int)}: TLS, and a proxy's media address when {@code signalPort} is a proxy's. */
    static RoomEngineConfig.Builder config(int signalPort) {
        return Fixtures.config(signalPort);
    }

    /**
     * The RECONNECTING line the cut should produce: the path that failed first. With both paths
     * cut either may be first, so the line actually seen is accepted if it names one of them.
     */
    static String reconnecting(Path path, List<String> seen) {
        String media = "state(RECONNECTING, MEDIA_CONNECTION_DISCONNECTED)";
        String signal = "state(RECONNECTING, SIGNAL_DISCONNECTED)";
        return switch (path) {
            case MEDIA -> media;
            case SIGNAL -> signal;
            case BOTH -> !seen.isEmpty() && seen.get(0).equals(signal) ? signal : media;
        };
    }

    /** Keeps the network as it is until {@code duration} after {@code since} (the outage itself, not a wait for an event). */
    static void holdFor(long since, Duration duration) {
        long until = since + duration.toNanos();
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    /** Waits until both signaling and media bytes have crossed the proxy in both directions since now. */
    static void awaitTrafficBothWays(FaultProxy proxy) {
        FaultProxy.Stats before = proxy.stats();
        Fixtures.awaitTrue(() -> {
            FaultProxy.Stats now = proxy.stats();
            return now.mediaDatagramsDownstream() > before.mediaDatagramsDownstream()
                    && now.mediaDatagramsUpstream() > before.mediaDatagramsUpstream()
                    && now.signalBytesDownstream() > before.signalBytesDownstream()
                    && now.signalBytesUpstream() > before.signalBytesUpstream();
        }, Fixtures.WAIT, "traffic through the proxy both ways on both paths");
    }

    /**
     * A (uid 1) and B (uid 2) join {@code channel} of {@code rooms}; once each has seen the other
     * both records are cleared, so that a test sees only what its fault causes.
     */
    static void joinAsPeers(TestRoomServer rooms, String channel, RoomEngine engineA, RecordingListener a,
            RoomEngine engineB, RecordingListener b) {
        engineA.joinChannel(rooms.token(Fixtures.APP_KEY, channel, 1), channel, 1);
        engineB.joinChannel(rooms.token(Fixtures.APP_KEY, channel, 2), channel, 2);
        a.awaitEvent("onUserJoined(2)", Fixtures.WAIT);
        b.awaitEvent("onUserJoined(1)", Fixtures.WAIT);
        a.clear();
        b.clear();
    }

    /** User 3 joins the channel directly and leaves again; A and B must both see it, in order. */
    static void visitByThirdUser(TestRoomServer rooms, String channel, RecordingListener a, RecordingListener b) {
        visitByThirdUser(config(rooms.serverSignalPort()), rooms.token(Fixtures.APP_KEY, channel, 3), channel, a, b);
    }

    /** The same, user 3's engine configured by {@code direct} and joining with {@code token}. */
    static void visitByThirdUser(RoomEngineConfig.Builder direct, String token, String channel, RecordingListener a,
            RecordingListener b) {
        RecordingListener c = new RecordingListener("C");
        try (RoomEngine engineC = RoomEngine.create(direct.build(), c)) {
            Fixtures.joinAndAwait(engineC, c, token, channel, 3);
            a.awaitEvent("onUserJoined(3)", Fixtures.WAIT);
            b.awaitEvent("onUserJoined(3)", Fixtures.WAIT);
            engineC.leaveChannel();
            a.awaitEvent("onUserLeave(3, NORMAL)", Fixtures.WAIT);
            b.awaitEvent("onUserLeave(3, NORMAL)", Fixtures.WAIT);
        }
    }
}
