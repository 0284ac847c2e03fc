package io.roomlink.server;

import io.netty.channel.epoll.Epoll;
import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Native epoll where it loads, NIO otherwise or when asked: the protocol works the same on both. */
class ServerTransportTest {
    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() {
        servers.close();
    }

    @Test
    void fallsBackToNioWhenEpollIsUnavailableOrNotWanted() {
        assertEquals("nio", ServerTransport.select(true, false).name());
        assertEquals("nio", ServerTransport.select(false, true).name());
        assertEquals("epoll", ServerTransport.select(true, true).name());
    }

    @Test
    void nioServerServesJoinsAndKeepalives() throws Exception {
        RoomServer server = servers.start(servers.builder().nativeTransport(false));
        assertEquals("nio", server.transportName());
        joinBindAndPing(server);
    }

    @Test
    void epollServerServesJoinsAndKeepalivesOnLinux() throws Exception {
        assumeTrue(Epoll.isAvailable(), "no native epoll here");
        RoomServer server = servers.start(servers.builder());
        assertEquals("epoll", server.transportName());
        joinBindAndPing(server);
    }

    private void joinBindAndPing(RoomServer server) throws Exception {
        Message.JoinOk[] ok = new Message.JoinOk[1];
        TestClient a = servers.member(server, "t", 1, ok);
        TestClient b = servers.member(server, "t", 2);
        assertEquals(new Message.PeerJoined(2), a.poll(TestClient.WAIT));
        a.pingPong(7);
        b.media().ping(2, 1);
        assertEquals(2, server.members("app", "t").size());
    }
}
