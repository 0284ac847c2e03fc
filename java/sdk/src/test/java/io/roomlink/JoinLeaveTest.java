package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static io.roomlink.Fixtures.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class JoinLeaveTest extends LoopbackServerTest {
    @Test
    void joinReportsConnectingThenConnectedThenJoinResult() {
        RecordingListener listener = new RecordingListener();
        try (RoomEngine engine = engine(listener)) {
            assertEquals(ConnectionState.DISCONNECTED, engine.getConnectionState());
            assertEquals(ErrorCode.OK, engine.joinChannel(token("room-1", 42), "room-1", 42));

            List<String> events = listener.awaitEvent("onJoinChannel(OK, uid=42)", WAIT);
            assertEquals(List.of(
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=42)"), events);
            assertTrue(listener.channelId() > 0, "channelId > 0");
            assertEquals(server().channelId(Fixtures.APP_KEY, "room-1").getAsLong(), listener.channelId());
            assertTrue(listener.joinElapsedMs() >= 0 && listener.joinElapsedMs() < WAIT.toMillis(),
                    "elapsed " + listener.joinElapsedMs());
            assertEquals(ConnectionState.CONNECTED, engine.getConnectionState(),
                    "getConnectionState agrees with the last state delivered");
            assertEquals(List.of(), listener.violations());
        }
    }

    @Test
    void twoUsersEachSeeTheOtherWhicheverCameFirst() {
        RecordingListener a = new RecordingListener("A");
        RecordingListener b = new RecordingListener("B");
        try (RoomEngine engineA = engine(a); RoomEngine engineB = engine(b)) {
            Fixtures.joinAndAwait(engineA, a, "room-2", 1);
            engineB.joinChannel(token("room-2", 2), "room-2", 2);

            List<String> seenByB = b.awaitEvent("onUserJoined(1)", WAIT);
            assertEquals(List.of(
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=2)",
                    "onUserJoined(1)"), seenByB, "the later joiner learns of the member already present");
            List<String> seenByA = a.awaitEvent("onUserJoined(2)", WAIT);
            assertEquals(List.of(
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=1)",
                    "onUserJoined(2)"), seenByA, "the earlier member is told of the newcomer");
            assertEquals(a.channelId(), b.channelId(), "every member sees the same channel id");
            assertEquals(List.of(), a.violations());
            assertEquals(List.of(), b.violations());
        }
    }

    @Test
    void leaveReportsToLeaverAndPeer() {
        RecordingListener a = new RecordingListener("A");
        RecordingListener b = new RecordingListener("B");
        try (RoomEngine engineA = engine(a); RoomEngine engineB = engine(b)) {
            engineA.joinChannel(token("room-3", 1), "room-3", 1);
            engineB.joinChannel(token("room-3", 2), "room-3", 2);
            a.awaitEvent("onUserJoined(2)", WAIT);
            b.awaitEvent("onUserJoined(1)", WAIT);

            assertEquals(ErrorCode.OK, engineA.leaveChannel());
            List<String> leaver = a.awaitEvent("onLeaveChannel(OK)", WAIT);
            assertEquals(List.of("state(DISCONNECTED, LEAVE_CHANNEL)", "onLeaveChannel(OK)"),
                    leaver.subList(leaver.size() - 2, leaver.size()));
            assertEquals(ConnectionState.DISCONNECTED, engineA.getConnectionState());

            List<String> peer = b.awaitEvent("onUserLeave(1, NORMAL)", WAIT);
            assertEquals("onUserLeave(1, NORMAL)", peer.get(peer.size() - 1));
            Fixtures.awaitTrue(() -> server().members(Fixtures.APP_KEY, "room-3").equals(java.util.Set.of(2L)), WAIT,
                    "server to drop the leaver");
        }
    }

    @Test
    void rejoinAfterLeaveWorksOnTheSameEngine() {
        RecordingListener listener = new RecordingListener();
        try (RoomEngine engine = engine(listener)) {
            Fixtures.joinAndAwait(engine, listener, "room-4", 7);
            engine.leaveChannel();
            listener.awaitEvent("onLeaveChannel(OK)", WAIT);
            assertEquals(ErrorCode.OK, engine.joinChannel(token("room-4", 7), "room-4", 7));
            List<String> events = listener.await(l -> l.size() >= 8, WAIT, "second join");
            assertEquals(List.of(
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=7)",
                    "state(DISCONNECTED, LEAVE_CHANNEL)",
                    "onLeaveChannel(OK)",
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=7)"), events);
        }
    }
}
