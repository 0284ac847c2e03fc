package io.roomlink.server;

import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.Vectors;
import io.roomlink.server.protocol.WireCodec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every protocol violation gets ERROR(31006) and closes that one connection; an established
 * session on the same server keeps working.
 */
class MalformedFrameTest {
    private static TestServers servers;
    private static RoomServer server;
    private static TestClient bystander;
    private static long nonce;

    @BeforeAll
    static void setUp() throws Exception {
        servers = new TestServers();
        server = servers.start();
        bystander = servers.client(server);
        bystander.join("app", "bystanders", 1, "", 1);
    }

    @AfterAll
    static void tearDown() throws Exception {
        servers.close();
    }

    private static void assertRejected(byte[] bytes, String expectedReason) throws Exception {
        TestClient c = servers.client(server);
        c.sendRaw(bytes);
        List<Object> got = c.drainUntilClosed(TestClient.WAIT);
        assertEquals(1, got.size(), "exactly one ERROR, then close: " + got);
        Message.Error err = (Message.Error) got.get(0);
        assertEquals(ErrorCodes.PROTOCOL, err.code());
        assertFalse(err.message().isEmpty());
        if (expectedReason != null) {
            assertEquals(expectedReason, err.message());
        }
        bystander.pingPong(++nonce);
    }

    @TestFactory
    Stream<DynamicTest> everyInvalidVectorAsFirstFrame() throws Exception {
        return Vectors.load("invalid.txt").stream().map(v -> DynamicTest.dynamicTest(v.name(),
                () -> assertRejected(v.bytes(), v.name().equals("bad_version") ? "unsupported version" : null)));
    }

    @TestFactory
    Stream<DynamicTest> everyInvalidVectorAfterAJoin() throws Exception {
        return Vectors.load("invalid.txt").stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> {
            TestClient c = servers.client(server);
            long uid = 1000 + v.line();
            c.join("app", "victims-" + v.name(), uid, "", uid);
            servers.media(server).bind(uid, 0); // fully connected, so that its drop means grace
            c.sendRaw(v.bytes());
            Message.Error err = c.expect(Message.Error.class);
            assertEquals(ErrorCodes.PROTOCOL, err.code());
            c.expectClosed();
            // the session itself goes to grace like any drop: still a member
            assertEquals(Set.of(uid), server.members("app", "victims-" + v.name()));
            bystander.pingPong(++nonce);
        }));
    }

    @Test
    void garbage() throws Exception {
        assertRejected("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                null);
    }

    @Test
    void hugeLength() throws Exception {
        assertRejected(HexFormat.of().parseHex("7fffffff0101"), null);
        assertRejected(HexFormat.of().parseHex("ffffffff"), null);
    }

    @Test
    void firstFrameMustBeJoinOrResume() throws Exception {
        assertRejected(WireCodec.encode(new Message.Leave()), "first frame must be JOIN or RESUME, got LEAVE");
        assertRejected(WireCodec.encode(Message.Leave.INSTANCE), null);
        assertRejected(WireCodec.encode(new Message.PeerJoined(1)), null);
    }

    @Test
    void serverToClientTypesFromAClient() throws Exception {
        TestClient c = servers.client(server);
        c.join("app", "room-s2c", 5, "", 5);
        c.send(new Message.Pong(1));
        assertEquals(ErrorCodes.PROTOCOL, c.expect(Message.Error.class).code());
        c.expectClosed();
    }

    @Test
    void secondJoinOnTheSameConnection() throws Exception {
        TestClient c = servers.client(server);
        c.join("app", "room-2nd", 6, "", 6);
        servers.media(server).bind(6, 0);
        c.send(new Message.Join("app", "room-2nd", 7, "", 7, MediaClient.secret(7)));
        assertEquals(ErrorCodes.PROTOCOL, c.expect(Message.Error.class).code());
        c.expectClosed();
        assertEquals(Set.of(6L), server.members("app", "room-2nd"));
    }

    @Test
    void validFramesBeforeTheErrorAreStillHandled() throws Exception {
        TestClient c = servers.client(server);
        byte[] join = WireCodec.encode(new Message.Join("app", "room-mixed", 8, "", 8, MediaClient.secret(8)));
        byte[] ping = WireCodec.encode(new Message.Ping(77));
        byte[] bad = HexFormat.of().parseHex("00000002017f");
        byte[] all = new byte[join.length + ping.length + bad.length];
        System.arraycopy(join, 0, all, 0, join.length);
        System.arraycopy(ping, 0, all, join.length, ping.length);
        System.arraycopy(bad, 0, all, join.length + ping.length, bad.length);
        c.sendRaw(all);
        List<Object> got = c.drainUntilClosed(TestClient.WAIT);
        assertTrue(got.stream().anyMatch(o -> o instanceof Message.Error e && e.code() == ErrorCodes.PROTOCOL),
                got.toString());
        bystander.pingPong(++nonce);
    }

    @Test
    void droppedAfterAProtocolErrorTheSessionCanResume() throws Exception {
        TestClient b = servers.member(server, "room-resume", 20);
        Message.JoinOk[] okC = new Message.JoinOk[1];
        TestClient c = servers.member(server, "room-resume", 21, okC);
        Message.JoinOk ok = okC[0];
        assertEquals(List.of(20L), c.snapshot());
        b.expect(Message.PeerJoined.class);
        c.stopKeepAlive();
        c.sendRaw(HexFormat.of().parseHex("0000000101"));
        c.expect(Message.Error.class);
        c.expectClosed();
        TestClient c2 = servers.client(server);
        assertTrue(c2.resume(ok.sessionId(), ok.sessionSecret(), 22).resumed());
        assertEquals(List.of(), c2.snapshot()); // no snapshot on resumed=1, and nothing to replay
        c2.expectSilence(Duration.ofMillis(200));
        b.expectSilence(Duration.ofMillis(200));
    }

    @Test
    void manyBadConnectionsAtOnce() throws Exception {
        List<TestClient> clients = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            TestClient c = servers.client(server);
            c.sendRaw(HexFormat.of().parseHex(i % 2 == 0 ? "00000002017f" : "0000000a020a0000000000000003"));
            clients.add(c);
        }
        for (TestClient c : clients) {
            assertEquals(ErrorCodes.PROTOCOL, c.expect(Message.Error.class).code());
            c.expectClosed();
        }
        bystander.pingPong(++nonce);
    }
}
