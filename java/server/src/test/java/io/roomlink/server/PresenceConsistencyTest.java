package io.roomlink.server;

import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Concurrent joins and leaves: every member sees every other member exactly once (from the
 * snapshot or from the fan-out, never both) and every leave exactly once.
 */
class PresenceConsistencyTest {
    private static final int N = 60;
    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() {
        servers.close();
    }

    /** Applies messages to {@code view} until it equals {@code expected}; fails on a duplicate event. */
    private static void converge(TestClient c, Set<Long> view, Set<Long> expected, long self) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!view.equals(expected)) {
            Object o = c.poll(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (o == null) {
                fail("uid " + self + " view " + view.size() + " never reached " + expected.size());
            }
            if (o instanceof Message.PeerJoined pj) {
                assertTrue(view.add(pj.uid()), "uid " + self + " saw PEER_JOINED(" + pj.uid() + ") twice");
            } else if (o instanceof Message.PeerLeft pl) {
                assertTrue(view.remove(pl.uid()), "uid " + self + " saw PEER_LEFT(" + pl.uid() + ") for a non-member");
                assertEquals(Message.PeerLeft.REASON_NORMAL, pl.reason());
            } else {
                fail("uid " + self + " got unexpected " + o);
            }
        }
    }

    @Test
    void concurrentJoinsAndLeaves() throws Exception {
        // About ordering, not timing: a long grace, so that no member expires while the test runs.
        RoomServer server = servers.start(servers.builder().sessionGrace(Duration.ofSeconds(60)));
        List<TestClient> clients = new ArrayList<>();
        List<MediaClient> media = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            clients.add(servers.client(server));
            media.add(servers.media(server));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Long>> joins = new ArrayList<>();
            for (int i = 0; i < N; i++) {
                TestClient c = clients.get(i);
                MediaClient m = media.get(i);
                long uid = i + 1;
                joins.add(pool.submit(() -> {
                    // As a real client does: BIND in parallel with JOIN; visible once both have arrived.
                    m.send(new MediaPacket(MediaCodec.BIND, uid, 1, uid));
                    long channelId = c.join("app", "crowd", uid, "", uid).channelId();
                    MediaPacket ack = m.receive(TestClient.WAIT);
                    assertEquals(new MediaPacket(MediaCodec.BIND_ACK, uid, 1, uid), MediaClient.uncounted(ack));
                    return channelId;
                }));
            }
            Set<Long> ids = new HashSet<>();
            for (Future<Long> f : joins) {
                ids.add(f.get());
            }
            assertEquals(1, ids.size(), "one channel id for all members");

            Set<Long> everyone = new HashSet<>();
            for (long u = 1; u <= N; u++) {
                everyone.add(u);
            }
            List<Set<Long>> views = new ArrayList<>();
            for (int i = 0; i < N; i++) {
                Set<Long> expected = new HashSet<>(everyone);
                expected.remove((long) i + 1);
                List<Long> snapshot = clients.get(i).snapshot();
                Set<Long> view = new HashSet<>(snapshot);
                assertEquals(snapshot.size(), view.size(), "duplicate in snapshot " + snapshot);
                converge(clients.get(i), view, expected, i + 1);
                views.add(view);
            }
            assertEquals(everyone, server.members("app", "crowd"));

            // The even uids leave concurrently.
            List<Future<?>> leaves = new ArrayList<>();
            for (int i = 1; i < N; i += 2) {
                TestClient c = clients.get(i);
                leaves.add(pool.submit(() -> {
                    c.send(Message.Leave.INSTANCE);
                    Object o;
                    do { // skip presence events that were in flight
                        o = c.poll(TestClient.WAIT);
                        assertTrue(o instanceof Message, "no LEAVE_OK, got " + o);
                    } while (!(o instanceof Message.LeaveOk));
                    return null;
                }));
            }
            for (Future<?> f : leaves) {
                f.get();
            }
            Set<Long> odd = new HashSet<>();
            for (long u = 1; u <= N; u += 2) {
                odd.add(u);
            }
            for (int i = 0; i < N; i += 2) {
                Set<Long> expected = new HashSet<>(odd);
                expected.remove((long) i + 1);
                converge(clients.get(i), views.get(i), expected, i + 1);
                clients.get(i).expectSilence(Duration.ofMillis(i == 0 ? 200 : 1));
            }
            assertEquals(odd, server.members("app", "crowd"));
            assertEquals(N / 2, server.sessionCount());
        } finally {
            pool.shutdownNow();
        }
    }
}
