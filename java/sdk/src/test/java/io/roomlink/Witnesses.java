package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static io.roomlink.Fixtures.config;
import static io.roomlink.Fixtures.token;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.roomlink.server.RoomServer;
import java.util.ArrayList;
import java.util.List;

/** Two real engines joined in one channel; they must see no state change during an attack. */
final class Witnesses implements AutoCloseable {
    private static final long UID_A = 900_001;
    private static final long UID_B = 900_002;

    private final RecordingListener a = new RecordingListener("witness-A");
    private final RecordingListener b = new RecordingListener("witness-B");
    private final List<RoomEngine> engines = new ArrayList<>();
    private int baselineA;
    private int baselineB;

    private Witnesses() {
    }

    /** Both CONNECTED, each sees the other. */
    static Witnesses join(RoomServer server, String channel) {
        Witnesses w = new Witnesses();
        try {
            RoomEngine ea = RoomEngine.create(config(server).build(), w.a);
            w.engines.add(ea);
            RoomEngine eb = RoomEngine.create(config(server).build(), w.b);
            w.engines.add(eb);
            assertEquals(ErrorCode.OK, ea.joinChannel(token(channel, UID_A), channel, UID_A));
            w.a.awaitEvent("onJoinChannel(OK, uid=" + UID_A + ")", WAIT);
            assertEquals(ErrorCode.OK, eb.joinChannel(token(channel, UID_B), channel, UID_B));
            w.b.awaitEvent("onUserJoined(" + UID_A + ")", WAIT);
            w.a.awaitEvent("onUserJoined(" + UID_B + ")", WAIT);
            w.baselineA = w.a.events().size();
            w.baselineB = w.b.events().size();
            return w;
        } catch (RuntimeException | AssertionError e) {
            w.close();
            throw e;
        }
    }

    /** Since CONNECTED: no onConnectionStateChanged, no onUserLeave. */
    void assertUndisturbed() {
        check(a, baselineA);
        check(b, baselineB);
    }

    private static void check(RecordingListener l, int baseline) {
        List<String> events = l.events();
        List<String> since = events.subList(Math.min(baseline, events.size()), events.size());
        List<String> disturbances = since.stream()
                .filter(e -> e.startsWith("state(") || e.startsWith("onUserLeave(") || e.startsWith("onDisconnect(")
                        || e.startsWith("onReconnectingStart("))
                .toList();
        assertEquals(List.of(), disturbances, "a witness was disturbed; everything it saw: " + events);
        assertEquals(List.of(), l.violations(), "callback rule violations");
    }

    @Override
    public void close() {
        engines.forEach(RoomEngine::close);
        engines.clear();
    }
}
