package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Resets, loss, recovery speed and giving up, with A behind its own FaultProxy and B direct. */
class ReconnectTest {
    static final String CHANNEL = "reconnect";

    private TestRoomServer rooms;
    private FaultProxy networkOfA;
    private RoomEngine engineA;
    private RoomEngine engineB;
    private final RecordingListener a = new RecordingListener("A");
    private final RecordingListener b = new RecordingListener("B");

    private void joinBoth(RoomEngineConfig.Builder configOfA) {
        joinBoth(configOfA, Duration.ofSeconds(10));
    }

    private void joinBoth(RoomEngineConfig.Builder configOfA, Duration grace) {
        rooms = TestRoomServer.builder().sessionGrace(grace).start();
        networkOfA = rooms.newFaultProxy();
        // The proxy cannot rewrite JOIN_OK inside TLS: A is told the proxy's media address itself.
        engineA = RoomEngine.create(configOfA.server("127.0.0.1", networkOfA.signalPort())
                .mediaAddressOverride(networkOfA.host(), networkOfA.mediaPort()).build(), a);
        engineB = RoomEngine.create(Outages.config(rooms.serverSignalPort()).build(), b);
        Outages.joinAsPeers(rooms, CHANNEL, engineA, a, engineB, b);
    }

    /** What A was told up to its onRejoinChannel(OK), and how long that took from a change of its network. */
    private record Rejoin(List<String> seen, double seconds) {
    }

    private Rejoin rejoinAfter(Runnable change) {
        long changedAt = System.nanoTime();
        change.run();
        List<String> seen = a.awaitEvent("onRejoinChannel(OK)", Fixtures.WAIT);
        return new Rejoin(seen, (System.nanoTime() - changedAt) / 1e9);
    }

    @AfterEach
    void closeAll() {
        if (engineA != null) {
            engineA.close();
            engineB.close();
        }
        if (rooms != null) {
            rooms.close();
        }
        assertEquals(List.of(), a.violations());
        assertEquals(List.of(), b.violations());
    }

    @Test
    void tcpResetIsDetectedAtOnceAndResumed() {
        joinBoth(Outages.config(1));
        Rejoin rejoin = rejoinAfter(networkOfA::resetConnections);
        assertEquals(Outages.SIGNAL_RESUMED, rejoin.seen());
        assertTrue(rejoin.seconds() < 3, "reset to rejoin took " + rejoin.seconds() + " s");
        Outages.visitByThirdUser(rooms, CHANNEL, a, b);
        assertEquals(List.of("onUserJoined(3)", "onUserLeave(3, NORMAL)"), b.events(), "B saw nothing of it");
    }

    @Test
    void sustainedLossAndJitterCauseNoStateChange() {
        joinBoth(Outages.config(1));
        networkOfA.loss(Path.BOTH, 0.2);
        networkOfA.delay(Path.BOTH, Duration.ZERO, Duration.ofMillis(100));
        Outages.holdFor(System.nanoTime(), Duration.ofSeconds(20));
        networkOfA.restore();
        Outages.visitByThirdUser(rooms, CHANNEL, a, b);
        assertEquals(List.of("onUserJoined(3)", "onUserLeave(3, NORMAL)"), a.events(), "A never left CONNECTED");
        assertEquals(List.of("onUserJoined(3)", "onUserLeave(3, NORMAL)"), b.events());
    }

    @Test
    void recoveryStartsAsSoonAsTheNetworkReturnsEvenDeepInBackoff() {
        // A backoff this slow would keep a client that only retried on its schedule away for many
        // seconds; probes must bring it back well within one.
        joinBoth(Outages.config(1).backoff(
                BackoffPolicy.exponential(Duration.ofSeconds(4), Duration.ofSeconds(30), 2.0, 0.0)));
        long cutAt = System.nanoTime();
        networkOfA.blackhole(Path.BOTH, Direction.BOTH);
        a.awaitEvent("onReconnectingStart()", Fixtures.WAIT);
        Outages.holdFor(cutAt, Duration.ofSeconds(8));
        Rejoin rejoin = rejoinAfter(networkOfA::restore);
        // Goal: 2 RTT + 100 ms; the probes are at most 90 ms apart at the defaults.
        assertTrue(rejoin.seconds() < 0.5, "CONNECTED " + rejoin.seconds()
                + " s after the network came back (goal: < 0.1 s + 2 RTT)");
    }

    /**
     * A server restart as the client's host sees it: the connection is reset and connects are
     * refused (RST) while nothing listens. Refused probes keep their pace, so the engine is back
     * within about one probe interval of the server listening again.
     */
    @Test
    void aRefusingServerIsFoundWithinAProbeIntervalOfListeningAgain() {
        joinBoth(Outages.config(1));
        long refusedAt = System.nanoTime();
        networkOfA.refuse();
        a.awaitEvent("onReconnectingStart()", Fixtures.WAIT);
        Outages.holdFor(refusedAt, Duration.ofSeconds(3));
        Rejoin rejoin = rejoinAfter(networkOfA::restore);
        assertEquals(Outages.SIGNAL_RESUMED, rejoin.seen());
        assertTrue(rejoin.seconds() < 0.5, "CONNECTED " + rejoin.seconds()
                + " s after the server listened again (goal: < 0.1 s + 2 RTT)");
        assertEquals(List.of(), b.events(), "within the grace B saw nothing");
    }

    /**
     * A join asked for while the network is cut: its connect's SYN is lost, and the kernel would
     * resend it only 1 s, 3 s, 7 s later; probes send fresh SYNs meanwhile, so the join completes
     * about one probe interval after the network returns.
     */
    @Test
    void aJoinStartedDuringACutCompletesSoonAfterTheNetworkReturns() {
        rooms = TestRoomServer.builder().start();
        networkOfA = rooms.newFaultProxy();
        engineA = RoomEngine.create(Outages.config(networkOfA.signalPort()).joinTimeout(Duration.ofSeconds(20)).build(), a);
        engineB = RoomEngine.create(Outages.config(rooms.serverSignalPort()).build(), b);
        networkOfA.blackhole(Path.BOTH, Direction.BOTH);
        long cutAt = System.nanoTime();
        assertEquals(ErrorCode.OK, engineA.joinChannel(rooms.token(Fixtures.APP_KEY, CHANNEL, 1), CHANNEL, 1));
        // Attempts go out at 0 and about 1.75 s (after a 1.5 s connect timeout and a 250 ms backoff),
        // each SYN resent by the kernel 1 s later; the third attempt comes at about 3.75 s. Restored
        // at 2.85 s, a client without probes would wait about 0.9 s for its next SYN.
        Outages.holdFor(cutAt, Duration.ofMillis(2850));
        assertEquals(ConnectionState.CONNECTING, engineA.getConnectionState());
        long restoredAt = System.nanoTime();
        networkOfA.restore();
        List<String> seen = a.awaitEvent("onJoinChannel(OK, uid=1)", Fixtures.WAIT);
        double took = (System.nanoTime() - restoredAt) / 1e9;
        assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(CONNECTED, JOIN_SUCCEED)",
                "onJoinChannel(OK, uid=1)"), seen);
        assertTrue(took < 0.5, "joined " + took + " s after the network came back (goal: < 0.1 s + 2 RTT)");
    }

    @Test
    void givesUpAfterTheReconnectTimeoutAndGoesQuiet() {
        joinBoth(Outages.config(1).reconnectTimeout(Duration.ofSeconds(3)));
        networkOfA.blackhole(Path.BOTH, Direction.BOTH);
        List<String> seen = a.awaitEvent("onDisconnect(RECONNECT_TIMEOUT)", Duration.ofSeconds(15));
        assertEquals(List.of(Outages.reconnecting(Path.BOTH, seen), "onReconnectingStart()",
                "state(FAILED, TIMEOUT)", "onDisconnect(RECONNECT_TIMEOUT)"), seen);
        assertEquals(ConnectionState.FAILED, engineA.getConnectionState());

        // Nothing more goes on the wire: every socket is closed and no datagram is sent.
        Fixtures.awaitTrue(() -> networkOfA.stats().signalConnectionsOpen() == 0, Fixtures.WAIT,
                "A's connections to close");
        FaultProxy.Stats quiet = networkOfA.stats();
        Outages.holdFor(System.nanoTime(), Duration.ofSeconds(2));
        FaultProxy.Stats later = networkOfA.stats();
        assertEquals(quiet.signalConnectionsAccepted(), later.signalConnectionsAccepted(), "no new connection");
        assertEquals(quiet.mediaDatagramsUpstream() + quiet.mediaDroppedUpstream(),
                later.mediaDatagramsUpstream() + later.mediaDroppedUpstream(), "no datagram");
        assertEquals(quiet.signalBytesUpstream(), later.signalBytesUpstream(), "no signaling bytes");
        assertEquals(ErrorCode.NOT_JOINED, engineA.leaveChannel(), "FAILED is not joined");
    }

    @Test
    void kickEndsTheSessionWithoutReconnecting() {
        joinBoth(Outages.config(1));
        assertTrue(rooms.server().kickUser(Fixtures.APP_KEY, CHANNEL, 1));
        assertEquals(List.of("state(DISCONNECTED, BE_KICKED)", "onDisconnect(SERVER_KICKED)"),
                a.awaitEvent("onDisconnect(SERVER_KICKED)", Fixtures.WAIT));
        assertEquals(List.of("onUserLeave(1, KICKED)"), b.awaitEvent("onUserLeave(1, KICKED)", Fixtures.WAIT));
        assertNoReconnect();
    }

    @Test
    void closedChannelEndsEverySession() {
        joinBoth(Outages.config(1));
        assertTrue(rooms.server().closeChannel(Fixtures.APP_KEY, CHANNEL));
        List<String> expected = List.of("state(DISCONNECTED, CHANNEL_CLOSED)", "onDisconnect(CHANNEL_CLOSED)");
        assertEquals(expected, a.awaitEvent("onDisconnect(CHANNEL_CLOSED)", Fixtures.WAIT));
        assertEquals(expected, b.awaitEvent("onDisconnect(CHANNEL_CLOSED)", Fixtures.WAIT));
        assertEquals(ConnectionState.DISCONNECTED, engineB.getConnectionState());
        assertNoReconnect();
    }

    @Test
    void sameUidJoiningElsewhereEndsTheEarlierSession() {
        joinBoth(Outages.config(1));
        RecordingListener newcomer = new RecordingListener("A2");
        try (RoomEngine engineA2 = RoomEngine.create(Outages.config(rooms.serverSignalPort()).build(), newcomer)) {
            engineA2.joinChannel(rooms.token(Fixtures.APP_KEY, CHANNEL, 1), CHANNEL, 1);
            assertEquals(List.of("state(DISCONNECTED, BE_KICKED_DUE_TO_SAME_USER_ID)", "onDisconnect(SAME_UID_LOGIN)"),
                    a.awaitEvent("onDisconnect(SAME_UID_LOGIN)", Fixtures.WAIT));
            assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=1)", "onUserJoined(2)"), newcomer.awaitEvent("onUserJoined(2)", Fixtures.WAIT));
            assertNoReconnect();
            Outages.visitByThirdUser(rooms, CHANNEL, newcomer, b);
            assertEquals(List.of("onUserJoined(3)", "onUserLeave(3, NORMAL)"), b.events(),
                    "B saw uid 1 neither leave nor join");
        }
    }

    @Test
    void serverRestartAtTheSameAddressTakesClientsBackAsFreshSessions() {
        joinBoth(Outages.config(1));
        rooms.restart();
        List<String> expected = Outages.SIGNAL_RESUMED;
        assertEquals(expected, a.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(20)).subList(0, 4));
        assertEquals(expected, b.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(20)).subList(0, 4));
        Fixtures.awaitTrue(() -> rooms.server().members(Fixtures.APP_KEY, CHANNEL).equals(Set.of(1L, 2L)),
                Fixtures.WAIT, "both members back on the new server");
        Outages.visitByThirdUser(rooms, CHANNEL, a, b);
    }

    @Test
    void leaveWhileReconnectingStopsAtOnceAndReachesTheServerWhenSignalingWorks() {
        joinBoth(Outages.config(1));
        networkOfA.blackhole(Path.MEDIA, Direction.BOTH);
        a.awaitEvent("onReconnectingStart()", Fixtures.WAIT);
        // The reconnect attempt's signaling connection is up (only media is cut) and carried its
        // RESUME (after the TLS handshake): the leave goes out on it.
        Fixtures.awaitTrue(() -> networkOfA.stats().signalConnectionsAccepted() >= 2
                && rooms.server().stats().resumes() >= 1, Fixtures.WAIT,
                "a reconnect attempt to reach the server with its RESUME");
        assertEquals(ErrorCode.OK, engineA.leaveChannel());
        assertEquals(ConnectionState.DISCONNECTED, engineA.getConnectionState());
        List<String> seen = a.awaitEvent("onLeaveChannel(OK)", Fixtures.WAIT);
        assertEquals(List.of("state(RECONNECTING, MEDIA_CONNECTION_DISCONNECTED)", "onReconnectingStart()",
                "state(DISCONNECTED, LEAVE_CHANNEL)", "onLeaveChannel(OK)"), seen);
        assertEquals(List.of("onUserLeave(1, NORMAL)"), b.awaitEvent("onUserLeave(1, NORMAL)", Fixtures.WAIT));
        assertNoReconnect();
    }

    @Test
    void leaveWhileReconnectingWithNoPathLeavesPeersToTheGracePeriod() {
        Duration grace = Duration.ofSeconds(2);
        joinBoth(Outages.config(1), grace);
        long cutAt = System.nanoTime();
        networkOfA.blackhole(Path.BOTH, Direction.BOTH);
        List<String> down = a.awaitEvent("onReconnectingStart()", Fixtures.WAIT);
        assertEquals(ErrorCode.OK, engineA.leaveChannel());
        List<String> seen = a.awaitEvent("onLeaveChannel(OK)", Fixtures.WAIT);
        assertEquals(List.of(down.get(0), "onReconnectingStart()",
                "state(DISCONNECTED, LEAVE_CHANNEL)", "onLeaveChannel(OK)"), seen);
        assertEquals(List.of("onUserLeave(1, TIMEOUT)"), b.awaitEvent("onUserLeave(1, TIMEOUT)", Fixtures.WAIT));
        double ghost = (System.nanoTime() - cutAt) / 1e9;
        assertTrue(ghost >= grace.toMillis() / 1000.0 - 0.2 && ghost < grace.toMillis() / 1000.0 + 3,
                "B was told " + ghost + " s after the cut (grace " + grace.toMillis() + " ms)");
        networkOfA.restore();
        assertNoReconnect();
    }

    /** The ended engine stays away: the server never sees it again and it stays DISCONNECTED. */
    private void assertNoReconnect() {
        long accepted = networkOfA.stats().signalConnectionsAccepted();
        Outages.holdFor(System.nanoTime(), Duration.ofSeconds(1));
        assertEquals(accepted, networkOfA.stats().signalConnectionsAccepted(), "no reconnect attempt");
        assertEquals(ConnectionState.DISCONNECTED, engineA.getConnectionState());
    }
}
