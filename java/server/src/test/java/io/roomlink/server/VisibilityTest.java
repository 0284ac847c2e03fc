package io.roomlink.server;

import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * "Present = fully connected" (docs/PROTOCOL.md): a session is shown to its peers only once its
 * JOIN was accepted and its media BIND has arrived; until then it is pending and peers see nothing
 * of it, not even when it goes away.
 */
class VisibilityTest {
    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() {
        servers.close();
    }

    @Test
    void joinedButNeverBoundIsInvisibleAndItsDropIsSilent() throws Exception {
        RoomServer server = servers.start();
        TestClient b = servers.member(server, "room", 2);
        TestClient a = servers.client(server);
        Message.JoinOk ok = a.join("app", "room", 1, "", 41);
        assertEquals(List.of(2L), a.snapshot()); // the pending client itself gets its snapshot at once
        assertEquals(Set.of(2L), server.members("app", "room"));
        assertEquals(2, server.sessionCount());

        // A pending session follows the room like any member: it hears of c, c does not hear of it.
        TestClient c = servers.member(server, "room", 3);
        assertEquals(List.of(2L), c.snapshot());
        assertEquals(3, b.expect(Message.PeerJoined.class).uid());
        assertEquals(3, a.expect(Message.PeerJoined.class).uid());

        // Its drop is not announced, and it is not held for a grace period.
        a.abort();
        Await.until("the pending session dropped", Duration.ofSeconds(5), () -> server.sessionCount() == 2);
        b.expectSilence(Duration.ofMillis(300));
        c.expectSilence(Duration.ofMillis(1));
        assertEquals(Set.of(2L, 3L), server.members("app", "room"));
        assertEquals(0, server.stats().graceExpiries());

        // Its RESUME is admitted afresh (it had been dropped); once bound it is shown, exactly once.
        TestClient a2 = servers.client(server);
        Message.ResumeOk r = a2.resume(ok.sessionId(), ok.sessionSecret(), 42);
        assertFalse(r.resumed());
        assertEquals(List.of(2L, 3L), a2.snapshot());
        servers.live(server, a2, 42);
        assertEquals(1, b.expect(Message.PeerJoined.class).uid());
        assertEquals(1, c.expect(Message.PeerJoined.class).uid());
        assertEquals(Set.of(1L, 2L, 3L), server.members("app", "room"));
        b.expectSilence(Duration.ofMillis(200));
    }

    @Test
    void bindBeforeJoinMakesTheSessionVisibleAsSoonAsTheJoinArrives() throws Exception {
        RoomServer server = servers.start();
        TestClient b = servers.member(server, "room", 2);
        MediaClient m = servers.media(server);
        m.send(new MediaPacket(MediaCodec.BIND, 51, 7, 8)); // the client sends BIND in parallel with JOIN
        Await.until("pending bind", Duration.ofSeconds(5), () -> server.stats().pendingBinds() == 1);
        TestClient a = servers.client(server);
        a.join("app", "room", 1, "", 51);
        assertEquals(new MediaPacket(MediaCodec.BIND_ACK, 51, 7, 8), MediaClient.uncounted(m.receive(TestClient.WAIT)));
        assertEquals(1, b.expect(Message.PeerJoined.class).uid());
        assertEquals(Set.of(1L, 2L), server.members("app", "room"));
        a.expectSilence(Duration.ofMillis(100)); // no PEER_JOINED about itself
    }

    @Test
    void pendingSessionsAreReplacedAndKickedWithoutAWord() throws Exception {
        RoomServer server = servers.start();
        TestClient b = servers.member(server, "room", 2);
        TestClient a = servers.client(server);
        a.join("app", "room", 1, "", 61);

        // Same uid again while the first login is pending: the newcomer is pending too.
        TestClient a2 = servers.client(server);
        a2.join("app", "room", 1, "", 62);
        assertEquals(ErrorCodes.SAME_UID_LOGIN, a.expect(Message.SessionEnd.class).code());
        a.expectClosed();
        assertEquals(Set.of(2L), server.members("app", "room"));

        // Kicking a pending session ends it, but its peers never saw it: no PEER_LEFT.
        assertTrue(server.kickUser("app", "room", 1));
        assertEquals(ErrorCodes.SERVER_KICKED, a2.expect(Message.SessionEnd.class).code());
        a2.expectClosed();
        b.expectSilence(Duration.ofMillis(300));
        assertEquals(1, server.sessionCount());

        // A LEAVE before the BIND is just as quiet.
        TestClient a3 = servers.client(server);
        a3.join("app", "room", 1, "", 63);
        a3.send(Message.Leave.INSTANCE);
        a3.expect(Message.LeaveOk.class);
        a3.expectClosed();
        b.expectSilence(Duration.ofMillis(200));
        assertEquals(1, server.sessionCount());
    }

    @Test
    void duplicateLoginOfAVisibleUidStaysVisibleWithoutAFlap() throws Exception {
        RoomServer server = servers.start();
        TestClient b = servers.member(server, "room", 2);
        TestClient a = servers.member(server, "room", 1);
        assertEquals(1, b.expect(Message.PeerJoined.class).uid());
        TestClient a2 = servers.client(server);
        a2.join("app", "room", 1, "", 71);
        assertEquals(ErrorCodes.SAME_UID_LOGIN, a.expect(Message.SessionEnd.class).code());
        assertEquals(Set.of(1L, 2L), server.members("app", "room")); // visible before its own BIND
        servers.live(server, a2, 71);
        b.expectSilence(Duration.ofMillis(300)); // neither a leave nor a join
    }
}
