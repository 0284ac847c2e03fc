package io.roomlink.server;

import io.netty.channel.epoll.Epoll;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import java.util.HashSet;
import java.util.Set;
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

    @Test
    void aBurstOfDatagramsIsAnsweredWhole() throws Exception {
        for (boolean nativeTransport : new boolean[] {false, true}) {
            if (nativeTransport && !Epoll.isAvailable()) {
                continue;
            }
            try (TestServers own = new TestServers()) {
                burst(own, own.start(own.builder().nativeTransport(nativeTransport)));
            }
        }
    }

    private static void burst(TestServers own, RoomServer server) throws Exception {
        MediaClient media = own.member(server, "burst", 1).media();
        // Bursts of 50: enough for the server to find many datagrams queued per read, few enough that
        // the test's own socket buffer (as small as 208 KiB) holds all the answers until it reads them.
        int bursts = 6;
        int perBurst = 50;
        int garbage = 0;
        Set<Integer> answered = new HashSet<>();
        for (int b = 0; b < bursts; b++) {
            for (int i = 1; i <= perBurst; i++) {
                int seq = b * perBurst + i;
                media.send(new MediaPacket(MediaCodec.PING, 1, seq, 0));
                if (seq % 7 == 0) { // a bad datagram between good ones spoils nothing around it
                    media.sendRaw(new byte[] {1, 2, 3});
                    garbage++;
                }
            }
            MediaPacket p;
            while (answered.size() < (b + 1) * perBurst && (p = media.receive(TestClient.WAIT)) != null) {
                assertEquals(MediaCodec.PONG, p.type());
                answered.add(p.seq());
            }
        }
        assertEquals(bursts * perBurst, answered.size(), server.transportName() + ": PONGs for " + bursts
                + " bursts of " + perBurst + " PINGs");
        int bad = garbage;
        Await.until(server.transportName() + ": malformed datagrams counted", TestClient.WAIT,
                () -> server.stats().malformedDatagrams() == bad);
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
