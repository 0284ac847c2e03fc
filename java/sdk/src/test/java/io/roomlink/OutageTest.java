package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.TestRoomServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hard cuts of A's network (both paths, signaling only, media only) for 300 ms (below the
 * detection threshold: 950 ms after the last answer on a clean path at the defaults, and the last
 * answer is at most 500 ms before the cut), 5 s (within the server's 10 s grace) and 15 s (beyond it). A reaches the server through its own FaultProxy; its
 * peer B is connected directly, so the test sees exactly what each side is told.
 */
class OutageTest {
    static final String CHANNEL = "outage";
    static final long A = 1;
    static final long B = 2;

    private TestRoomServer rooms;
    private FaultProxy networkOfA;
    private RoomEngine engineA;
    private RoomEngine engineB;
    private RecordingListener a;
    private RecordingListener b;

    @BeforeEach
    void joinBoth() {
        rooms = TestRoomServer.builder().sessionGrace(Duration.ofSeconds(10)).start();
        networkOfA = rooms.newFaultProxy();
        a = new RecordingListener("A");
        b = new RecordingListener("B");
        engineA = RoomEngine.create(Outages.config(networkOfA.signalPort()).build(), a);
        engineB = RoomEngine.create(Outages.config(rooms.serverSignalPort()).build(), b);
        Outages.joinAsPeers(rooms, CHANNEL, engineA, a, engineB, b);
    }

    @AfterEach
    void closeAll() {
        engineA.close();
        engineB.close();
        rooms.close();
        assertEquals(List.of(), a.violations());
        assertEquals(List.of(), b.violations());
    }

    static List<Arguments> cuts() {
        return List.of(
                Arguments.of(Path.BOTH, 300), Arguments.of(Path.SIGNAL, 300), Arguments.of(Path.MEDIA, 300),
                Arguments.of(Path.BOTH, 5000), Arguments.of(Path.SIGNAL, 5000), Arguments.of(Path.MEDIA, 5000),
                Arguments.of(Path.BOTH, 15000), Arguments.of(Path.SIGNAL, 15000), Arguments.of(Path.MEDIA, 15000));
    }

    @ParameterizedTest(name = "cut {0} for {1} ms")
    @MethodSource("cuts")
    void hardCut(Path path, int millis) {
        boolean brief = millis < 1000;
        long cutAt = System.nanoTime();
        networkOfA.blackhole(path, Direction.BOTH);
        if (!brief) {
            List<String> seen = a.awaitCount(2, Duration.ofSeconds(8));
            double detectedAfter = (System.nanoTime() - cutAt) / 1e9;
            assertEquals(List.of(Outages.reconnecting(path, seen), "onReconnectingStart()"), seen);
            assertTrue(detectedAfter < 6, "detected after " + detectedAfter + " s");
        }
        Outages.holdFor(cutAt, Duration.ofMillis(millis));
        if (millis > 10_000) {
            // Beyond grace the server drops A: B is told once, with TIMEOUT.
            assertEquals(List.of("onUserLeave(1, TIMEOUT)"), b.events());
        }
        long restoredAt = System.nanoTime();
        networkOfA.restore();

        List<String> probe = List.of("onUserJoined(3)", "onUserLeave(3, NORMAL)");
        if (brief) {
            // Shorter than the detection threshold: nobody is told anything. Once traffic has
            // crossed A's network again, a third user's visit proves both are still live.
            Outages.awaitTrafficBothWays(networkOfA);
            Outages.visitByThirdUser(rooms, CHANNEL, a, b);
            assertEquals(probe, a.events(), "A saw no outage");
            assertEquals(probe, b.events(), "B saw nothing");
            assertEquals(ConnectionState.CONNECTED, engineA.getConnectionState());
            return;
        }
        List<String> seenByA = a.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(10));
        double recoveredAfter = (System.nanoTime() - restoredAt) / 1e9;
        assertEquals(List.of(
                Outages.reconnecting(path, seenByA), "onReconnectingStart()",
                "state(CONNECTED, REJOIN_SUCCEED)", "onRejoinChannel(OK)"), seenByA);
        assertTrue(recoveredAfter < 3, "recovered " + recoveredAfter + " s after the network came back");
        assertEquals(ConnectionState.CONNECTED, engineA.getConnectionState());

        List<String> expectedByB = millis > 10_000
                ? List.of("onUserLeave(1, TIMEOUT)", "onUserJoined(1)") // beyond grace: leave, then join again
                : List.of(); // within grace: B sees nothing of A's outage
        if (millis > 10_000) {
            b.awaitEvent("onUserJoined(1)", Fixtures.WAIT);
        }
        Outages.visitByThirdUser(rooms, CHANNEL, a, b);
        List<String> allOfB = new java.util.ArrayList<>(expectedByB);
        allOfB.addAll(probe);
        assertEquals(allOfB, b.events());
        List<String> allOfA = new java.util.ArrayList<>(seenByA);
        allOfA.addAll(probe);
        assertEquals(allOfA, a.events(), "A's view of the room is complete and has no duplicates");
    }
}
