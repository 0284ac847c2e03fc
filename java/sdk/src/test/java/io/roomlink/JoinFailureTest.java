package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static io.roomlink.Fixtures.config;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.roomlink.server.RoomServer;
import io.roomlink.server.TokenBuilder;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JoinFailureTest {
    private static final Duration SHORT_JOIN = Duration.ofMillis(1500);

    @Test
    void badTokenIsRefusedByTheServer() {
        try (RoomServer server = Fixtures.server().start()) {
            assertRefused(server, "not-a-token");
        }
    }

    @Test
    void tokenForAnotherUidIsRefused() {
        try (RoomServer server = Fixtures.server().start()) {
            assertRefused(server, Fixtures.token("room-1", 999));
        }
    }

    @Test
    void expiredTokenIsRefused() {
        try (RoomServer server = Fixtures.server().start()) {
            String expired = TokenBuilder.build(Fixtures.SECRET, Fixtures.APP_KEY, "room-1", 5,
                    Instant.now().minusSeconds(60));
            assertRefused(server, expired);
        }
    }

    private static void assertRefused(RoomServer server, String token) {
        RecordingListener listener = new RecordingListener();
        try (RoomEngine engine = RoomEngine.create(config(server).build(), listener)) {
            assertEquals(ErrorCode.OK, engine.joinChannel(token, "room-1", 5));
            assertJoinFailed(listener, "REQUEST_CHANNEL_FAILED", "INVALID_TOKEN", 5);
            assertEquals(ConnectionState.FAILED, engine.getConnectionState());
        }
    }

    /** The join's whole story: CONNECTING, then FAILED for {@code reason}, then onJoinChannel({@code result}). */
    private static void assertJoinFailed(RecordingListener listener, String reason, String result, long uid) {
        String joinResult = "onJoinChannel(" + result + ", uid=" + uid + ")";
        List<String> events = listener.awaitEvent(joinResult, WAIT);
        assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(FAILED, " + reason + ")", joinResult), events);
    }

    @Test
    void noServerFailsWithinTheJoinTimeout() throws IOException {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        RecordingListener listener = new RecordingListener();
        try (RoomEngine engine = RoomEngine.create(config(closedPort).joinTimeout(SHORT_JOIN).build(), listener)) {
            engine.joinChannel("", "room-1", 1);
            assertJoinFailed(listener, "JOIN_CHANNEL_FAILED", "CONNECT_FAILED", 1);
            assertEquals(ConnectionState.FAILED, engine.getConnectionState());
        }
    }

    @Test
    void serverThatNeverAnswersTheJoinTimesOut() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept());
                    }
                } catch (IOException closed) {
                    // test over
                }
            }, "silent-acceptor");
            acceptor.start();
            RecordingListener listener = new RecordingListener();
            try (RoomEngine engine = RoomEngine.create(
                    config(silent.getLocalPort()).joinTimeout(SHORT_JOIN).build(), listener)) {
                engine.joinChannel("", "room-1", 1);
                assertJoinFailed(listener, "JOIN_CHANNEL_FAILED", "JOIN_TIMEOUT", 1);
            } finally {
                silent.close();
                acceptor.join();
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    @Test
    void mediaPathThatNeverAnswersFailsTheJoin() throws Exception {
        try (DatagramSocket blackhole = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                RoomServer server = Fixtures.server()
                        .advertisedMediaAddress("127.0.0.1", blackhole.getLocalPort()).start()) {
            RecordingListener listener = new RecordingListener();
            try (RoomEngine engine = RoomEngine.create(config(server).joinTimeout(SHORT_JOIN).build(), listener)) {
                engine.joinChannel(Fixtures.token("room-1", 3), "room-1", 3);
                assertJoinFailed(listener, "JOIN_CHANNEL_FAILED", "MEDIA_BIND_TIMEOUT", 3);
            }
        }
    }

    @Test
    void joinAfterFailureCanSucceed() throws IOException {
        try (RoomServer server = Fixtures.server().start()) {
            RecordingListener listener = new RecordingListener();
            try (RoomEngine engine = RoomEngine.create(config(server).build(), listener)) {
                engine.joinChannel("bad", "room-1", 8);
                listener.awaitEvent("onJoinChannel(INVALID_TOKEN, uid=8)", WAIT);
                assertEquals(ErrorCode.OK, engine.joinChannel(Fixtures.token("room-1", 8), "room-1", 8));
                List<String> events = listener.awaitEvent("onJoinChannel(OK, uid=8)", WAIT);
                assertEquals(List.of(
                        "state(CONNECTING, JOIN_CHANNEL)",
                        "state(FAILED, REQUEST_CHANNEL_FAILED)",
                        "onJoinChannel(INVALID_TOKEN, uid=8)",
                        "state(CONNECTING, JOIN_CHANNEL)",
                        "state(CONNECTED, JOIN_SUCCEED)",
                        "onJoinChannel(OK, uid=8)"), events);
            }
        }
    }
}
