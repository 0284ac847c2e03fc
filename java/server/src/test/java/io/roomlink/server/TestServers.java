package io.roomlink.server;

import io.roomlink.server.protocol.Message;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Starts loopback servers with test-friendly timings and closes everything a test opened. */
final class TestServers implements AutoCloseable {
    static final Duration GRACE = Duration.ofSeconds(1);
    /** Keepalive period of {@link #member} clients on both paths: well inside {@link #GRACE}. */
    static final Duration KEEPALIVE = Duration.ofMillis(100);

    private final List<AutoCloseable> resources = new ArrayList<>();
    private ScheduledExecutorService keepAlives;

    /** Loopback, plaintext (TestClient speaks the bare wire), ephemeral ports, 1 s grace, 10 s idle timeout (tests that need idling set it). */
    RoomServer.Builder builder() {
        return RoomServer.builder()
                .plaintext()
                .bindAddress("127.0.0.1")
                .signalPort(0)
                .mediaPort(0)
                .sessionGrace(GRACE)
                .idleTimeout(Duration.ofSeconds(10));
    }

    RoomServer start(RoomServer.Builder b) {
        return track(b.start());
    }

    RoomServer start() {
        return start(builder());
    }

    TestClient client(RoomServer server) throws Exception {
        return track(TestClient.connect(server.signalPort()));
    }

    MediaClient media(RoomServer server) throws Exception {
        return track(new MediaClient(server.mediaPort()));
    }

    /** Runs background keepalives; daemon threads, shut down by {@link #close()}. */
    synchronized ScheduledExecutorService keepAlives() {
        if (keepAlives == null) {
            keepAlives = Executors.newScheduledThreadPool(2, r -> {
                Thread t = new Thread(r, "test-keepalive");
                t.setDaemon(true);
                return t;
            });
        }
        return keepAlives;
    }

    /**
     * A fully connected member as a real client keeps it: JOIN ({@code mediaKey = uid}), BIND
     * (acknowledged: from then on the server has made it visible), then PINGs on both paths every
     * {@link #KEEPALIVE}. Its media client is {@link TestClient#media()}; the JOIN_OK is returned
     * through {@code ok} when not null.
     */
    TestClient member(RoomServer server, String channel, long uid, Message.JoinOk[] ok) throws Exception {
        TestClient c = client(server);
        Message.JoinOk joinOk = c.join("app", channel, uid, "", uid);
        if (ok != null) {
            ok[0] = joinOk;
        }
        return live(server, c, uid);
    }

    /**
     * Makes an already joined (or resumed) client fully connected and keeps it so: BIND of
     * {@code mediaKey} from a new media client (acknowledged), then keepalives on both paths.
     */
    TestClient live(RoomServer server, TestClient c, long mediaKey) throws Exception {
        MediaClient m = media(server);
        m.bind(mediaKey, 0);
        c.media(m);
        c.keepAlive(keepAlives(), KEEPALIVE);
        m.keepAlive(keepAlives(), mediaKey, KEEPALIVE);
        return c;
    }

    TestClient member(RoomServer server, String channel, long uid) throws Exception {
        return member(server, channel, uid, null);
    }

    /**
     * A {@link MemberPair} on a server started from {@code b}: a joins, then b, which finds a in its
     * snapshot, and a is told PEER_JOINED(2).
     */
    MemberPair startPair(RoomServer.Builder b) throws Exception {
        RoomServer server = start(b);
        Message.JoinOk[] okA = new Message.JoinOk[1];
        TestClient a = member(server, "room", 1, okA);
        TestClient peer = member(server, "room", 2);
        assertEquals(List.of(1L), peer.snapshot());
        assertEquals(2, a.expect(Message.PeerJoined.class).uid());
        return new MemberPair(server, a, okA[0], peer);
    }

    MemberPair startPair() throws Exception {
        return startPair(builder());
    }

    <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing test resources failed", e);
                }
            }
        }
        resources.clear();
        synchronized (this) {
            if (keepAlives != null) {
                keepAlives.shutdownNow();
                keepAlives = null;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
