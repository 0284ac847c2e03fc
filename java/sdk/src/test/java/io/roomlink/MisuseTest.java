package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static io.roomlink.Fixtures.config;
import static io.roomlink.Fixtures.token;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MisuseTest extends LoopbackServerTest {
    @Test
    void secondJoinWhileJoinedIsRefusedAndChangesNothing() {
        RecordingListener listener = new RecordingListener();
        try (RoomEngine engine = engine(listener)) {
            engine.joinChannel(token("room-1", 1), "room-1", 1);
            assertEquals(ErrorCode.ALREADY_JOINED, engine.joinChannel(token("room-1", 1), "room-1", 1),
                    "while CONNECTING");
            listener.awaitEvent("onJoinChannel(OK, uid=1)", WAIT);
            assertEquals(ErrorCode.ALREADY_JOINED, engine.joinChannel(token("room-2", 1), "room-2", 1),
                    "while CONNECTED");
            assertEquals(ConnectionState.CONNECTED, engine.getConnectionState());
            // A later, observable event proves nothing else was queued in between.
            engine.leaveChannel();
            List<String> events = listener.awaitEvent("onLeaveChannel(OK)", WAIT);
            assertEquals(List.of(
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=1)",
                    "state(DISCONNECTED, LEAVE_CHANNEL)",
                    "onLeaveChannel(OK)"), events);
            assertEquals(java.util.Set.of(), server().members(Fixtures.APP_KEY, "room-2"));
        }
    }

    @Test
    void leaveWhenNotJoinedIsRefused() {
        RecordingListener listener = new RecordingListener();
        try (RoomEngine engine = engine(listener)) {
            assertEquals(ErrorCode.NOT_JOINED, engine.leaveChannel(), "before any join");
            Fixtures.joinAndAwait(engine, listener, "room-1", 2);
            assertEquals(ErrorCode.OK, engine.leaveChannel());
            assertEquals(ErrorCode.NOT_JOINED, engine.leaveChannel(), "after leaving");
            listener.awaitEvent("onLeaveChannel(OK)", WAIT);
        }
    }

    @Test
    void leaveWhileConnectingStopsTheJoin() throws Exception {
        // A server that accepts and never answers: the join is certainly still in CONNECTING when
        // leaveChannel() comes, however the threads are scheduled (a real server might answer first).
        RecordingListener listener = new RecordingListener();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             RoomEngine engine = RoomEngine.create(config(silent.getLocalPort()).build(), listener)) {
            engine.joinChannel("", "room-1", 3);
            assertEquals(ErrorCode.OK, engine.leaveChannel());
            assertEquals(ConnectionState.DISCONNECTED, engine.getConnectionState());
            List<String> events = listener.awaitEvent("onLeaveChannel(OK)", WAIT);
            assertEquals(List.of(
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(DISCONNECTED, LEAVE_CHANNEL)",
                    "onLeaveChannel(OK)"), events);
        }
    }

    @Test
    void closeWhileConnectingDeliversNothingAfterItReturns() throws Exception {
        // A server that accepts and never answers keeps the engine in CONNECTING; a control
        // engine with the same join timeout shows when the closed one would have failed.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Duration joinTimeout = Duration.ofMillis(800);
            RecordingListener closedListener = new RecordingListener("closed");
            RecordingListener control = new RecordingListener("control");
            RoomEngine closing = RoomEngine.create(config(silent.getLocalPort()).joinTimeout(joinTimeout).build(),
                    closedListener);
            try (RoomEngine controlEngine = RoomEngine.create(
                    config(silent.getLocalPort()).joinTimeout(joinTimeout).build(), control)) {
                closing.joinChannel("", "room-1", 1);
                controlEngine.joinChannel("", "room-1", 2);
                closing.close();
                List<String> atClose = closedListener.events();
                control.awaitEvent("onJoinChannel(JOIN_TIMEOUT, uid=2)", WAIT);
                assertEquals(atClose, closedListener.events(), "no callback after close() returned");
                assertEquals(ConnectionState.DISCONNECTED, closing.getConnectionState());
                assertEquals(ErrorCode.ENGINE_CLOSED, closing.joinChannel("", "room-1", 1));
                assertEquals(ErrorCode.ENGINE_CLOSED, closing.leaveChannel());
                closing.close(); // idempotent
            }
        }
    }

    @Test
    void closeWhileConnectedDeliversNothingAfterItReturnsAndPeersSeeANormalLeave() {
        RecordingListener a = new RecordingListener("A");
        RecordingListener b = new RecordingListener("B");
        RoomEngine engineA = engine(a);
        try (RoomEngine engineB = engine(b)) {
            engineA.joinChannel(token("room-5", 1), "room-5", 1);
            engineB.joinChannel(token("room-5", 2), "room-5", 2);
            a.awaitEvent("onUserJoined(2)", WAIT);
            b.awaitEvent("onUserJoined(1)", WAIT);
            engineA.close();
            List<String> atClose = a.events();
            b.awaitEvent("onUserLeave(1, NORMAL)", WAIT);
            engineB.leaveChannel();
            b.awaitEvent("onLeaveChannel(OK)", WAIT);
            assertEquals(atClose, a.events(), "no callback after close() returned");
        }
    }

    @Test
    void closeFromInsideACallbackIsSafe() {
        RecordingListener recorder = new RecordingListener();
        RoomEngine[] holder = new RoomEngine[1];
        java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        RoomEngineListener closer = new RoomEngineListener() {
            @Override
            public void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
                recorder.onJoinChannel(result, channelId, elapsedMs, uid);
                holder[0].close();
                closed.countDown();
            }
        };
        holder[0] = engine(closer);
        holder[0].joinChannel(token("room-6", 1), "room-6", 1);
        try {
            assertEquals(true, closed.await(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        assertEquals(ConnectionState.DISCONNECTED, holder[0].getConnectionState());
    }

}
