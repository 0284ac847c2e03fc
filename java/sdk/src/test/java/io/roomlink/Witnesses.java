package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.roomlink.server.RoomServer;
import java.util.ArrayList;
import java.util.List;

/** Two real engines joined in one channel; they must see no state change during an attack. */
final class Witnesses implements AutoCloseable {
    static final long UID_A = 9_001;
    static final long UID_B = 9_002;

    private final List<RoomEngine> engines = new ArrayList<>();
    private final RecordingListener a = new RecordingListener("witness A");
    private final RecordingListener b = new RecordingListener("witness B");
    private int baselineA;
    private int baselineB;

    private Witnesses() {
    }

    /**
     * Both CONNECTED, each sees the other. The server is plaintext: the hostile tests' raw
     * attackers speak the plaintext wire, and the witnesses share their server.
     */
    static Witnesses join(RoomServer server, String channel) {
        Witnesses w = new Witnesses();
        try {
            RoomEngine ea = RoomEngine.create(Fixtures.config(server).plaintext(true).build(), w.a);
            w.engines.add(ea);
            RoomEngine eb = RoomEngine.create(Fixtures.config(server).plaintext(true).build(), w.b);
            w.engines.add(eb);
            ea.joinChannel(Fixtures.token(channel, UID_A), channel, UID_A);
            eb.joinChannel(Fixtures.token(channel, UID_B), channel, UID_B);
            w.a.awaitEvent("onUserJoined(" + UID_B + ")", Fixtures.WAIT);
            w.b.awaitEvent("onUserJoined(" + UID_A + ")", Fixtures.WAIT);
            w.a.awaitEvent("onJoinChannel(OK, uid=" + UID_A + ")", Fixtures.WAIT);
            w.b.awaitEvent("onJoinChannel(OK, uid=" + UID_B + ")", Fixtures.WAIT);
            w.baselineA = w.a.events().size();
            w.baselineB = w.b.events().size();
        } catch (RuntimeException | Error e) {
            w.close();
            throw e;
        }
        return w;
    }

    /**
     * Since CONNECTED: no onConnectionStateChanged, no onUserLeave of the other witness, and no
     * leave other than a member's own orderly one (NORMAL): a test's legitimate third member may
     * leave while the check runs, a ghost or a kicked witness may not.
     */
    void assertUndisturbed() {
        assertQuiet("witness A", a, baselineA, UID_B);
        assertQuiet("witness B", b, baselineB, UID_A);
        for (RoomEngine e : engines) {
            assertEquals(ConnectionState.CONNECTED, e.getConnectionState(), "witness state");
        }
    }

    private static void assertQuiet(String name, RecordingListener l, int baseline, long peer) {
        List<String> all = l.events();
        List<String> disturbing = new ArrayList<>();
        for (String line : all.subList(baseline, all.size())) {
            boolean leave = line.startsWith("onUserLeave(");
            boolean disturbingLeave = leave && (line.startsWith("onUserLeave(" + peer + ",") || !line.endsWith(", NORMAL)"));
            if (line.startsWith("state(") || disturbingLeave || line.startsWith("onDisconnect(")
                    || line.startsWith("onReconnectingStart(")) {
                disturbing.add(line);
            }
        }
        // A peer event before the baseline could only be the other witness joining: nothing to check there.
        assertEquals(List.of(), disturbing, name + " (peer " + peer + ") saw state changes during the attack");
        assertEquals(List.of(), l.violations(), name + " threading violations");
    }

    @Override
    public void close() {
        for (RoomEngine e : engines) {
            e.close();
        }
        engines.clear();
    }
}
