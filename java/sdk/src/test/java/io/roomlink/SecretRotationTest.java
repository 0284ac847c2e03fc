package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.TestRoomServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The server issues a fresh session secret at every RESUME_OK and kills the old one: an engine
 * that kept the old secret would have its second RESUME refused and join afresh instead, which the
 * server's counters tell apart (resumes vs joins).
 */
class SecretRotationTest {
    @Test
    void everyOutageIsResumedWithTheLatestSecret() {
        RecordingListener a = new RecordingListener("A");
        try (TestRoomServer rooms = TestRoomServer.builder().start()) {
            FaultProxy network = rooms.newFaultProxy(); // closed with rooms
            runOutages(rooms, network, a);
        }
    }

    private static void runOutages(TestRoomServer rooms, FaultProxy network, RecordingListener a) {
        try (RoomEngine engine = RoomEngine.create(Outages.config(network.signalPort()).build(), a)) {
            Fixtures.joinAndAwait(engine, a, rooms.token(Fixtures.APP_KEY, "rotation", 1), "rotation", 1);
            for (int outage = 1; outage <= 3; outage++) {
                a.clear();
                network.resetConnections();
                List<String> seen = a.awaitEvent("onRejoinChannel(OK)", Fixtures.WAIT);
                assertEquals(Outages.SIGNAL_RESUMED, seen, "outage " + outage);
                assertEquals(outage, rooms.server().stats().resumes(), "outage " + outage + " resumed the session");
            }
            assertEquals(1, rooms.server().stats().joins(), "never joined afresh");
            assertEquals(List.of(), a.violations());
        }
    }
}
