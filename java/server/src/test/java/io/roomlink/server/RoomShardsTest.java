package io.roomlink.server;

import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Room state split over several shards (one per I/O loop): each room lives in one shard, a session
 * id names its shard, and presence stays exactly-once and ordered per room while rooms on
 * different shards are served in parallel.
 */
class RoomShardsTest {
    private static final int SHARDS = 4;
    private static final int CHANNELS = 8;
    private static final int PER_CHANNEL = 6;
    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() {
        servers.close();
    }

    @Test
    void sessionIdsAndRoomsMapToShardsInRange() {
        for (long id : new long[] {0, 1, 5, -1, Long.MIN_VALUE, Long.MAX_VALUE}) {
            int shard = RoomShards.shardOfSession(id, 3);
            assertTrue(shard >= 0 && shard < 3, "shard " + shard + " of " + id);
        }
        for (int i = 0; i < 100; i++) {
            RoomKey key = new RoomKey("app", "room-" + i);
            int shard = RoomShards.shardOfRoom(key, 3);
            assertTrue(shard >= 0 && shard < 3);
            assertEquals(shard, RoomShards.shardOfRoom(new RoomKey("app", "room-" + i), 3), "stable");
        }
    }

    @Test
    void concurrentJoinsAcrossShardsSeeEveryPeerExactlyOnce() throws Exception {
        RoomServer server = servers.start(servers.builder().ioThreads(SHARDS).sessionGrace(Duration.ofSeconds(60)));
        int n = CHANNELS * PER_CHANNEL;
        List<TestClient> clients = new ArrayList<>();
        List<MediaClient> media = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            clients.add(servers.client(server));
            media.add(servers.media(server));
        }
        Set<Integer> shardsUsed = new HashSet<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Message.JoinOk>> joins = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                TestClient c = clients.get(i);
                MediaClient m = media.get(i);
                long uid = i + 1;
                String channel = channelOf(i);
                joins.add(pool.submit(() -> {
                    m.send(new MediaPacket(MediaCodec.BIND, uid, 1, uid));
                    Message.JoinOk ok = c.join("app", channel, uid, "", uid);
                    assertEquals(new MediaPacket(MediaCodec.BIND_ACK, uid, 1, uid), MediaClient.uncounted(m.receive(TestClient.WAIT)));
                    return ok;
                }));
            }
            Map<String, Long> channelIds = new HashMap<>();
            for (int i = 0; i < n; i++) {
                Message.JoinOk ok = joins.get(i).get();
                int shard = RoomShards.shardOfRoom(new RoomKey("app", channelOf(i)), SHARDS);
                assertEquals(shard, RoomShards.shardOfSession(ok.sessionId(), SHARDS),
                        "the session id names the shard of its room");
                shardsUsed.add(shard);
                Long before = channelIds.putIfAbsent(channelOf(i), ok.channelId());
                assertTrue(before == null || before == ok.channelId(), "one channel id per channel");
            }
            assertEquals(CHANNELS, new HashSet<>(channelIds.values()).size(), "channel ids unique server-wide");
            assertTrue(shardsUsed.size() > 1, "the channels spread over several shards: " + shardsUsed);

            for (int i = 0; i < n; i++) {
                Set<Long> expected = new HashSet<>();
                for (int j = 0; j < n; j++) {
                    if (j != i && channelOf(j).equals(channelOf(i))) {
                        expected.add((long) j + 1);
                    }
                }
                converge(clients.get(i), new HashSet<>(clients.get(i).snapshot()), expected, i + 1);
            }
            assertEquals(n, server.sessionCount());
            for (int ch = 0; ch < CHANNELS; ch++) {
                assertEquals(PER_CHANNEL, server.members("app", "c" + ch).size());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void resumeFindsItsSessionInItsShard() throws Exception {
        RoomServer server = servers.start(servers.builder().ioThreads(SHARDS).sessionGrace(Duration.ofSeconds(60)));
        for (int ch = 0; ch < CHANNELS; ch++) {
            long uid = 100 + ch;
            Message.JoinOk[] joined = new Message.JoinOk[1];
            TestClient first = servers.member(server, "c" + ch, uid, joined); // visible: it survives a drop
            Message.JoinOk ok = joined[0];
            first.stopKeepAlive();
            first.abort();
            TestClient again = servers.client(server);
            Message.ResumeOk r = again.resume(ok.sessionId(), ok.sessionSecret(), uid);
            assertTrue(r.resumed(), "the same session continues");
            assertEquals(ok.sessionId(), r.sessionId());
            assertFalse(java.util.Arrays.equals(ok.sessionSecret(), r.sessionSecret()), "the secret rotates");
            assertEquals(ok.channelId(), r.channelId());
        }
    }

    private static String channelOf(int i) {
        return "c" + (i % CHANNELS);
    }

    private static void converge(TestClient c, Set<Long> view, Set<Long> expected, long self) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!view.equals(expected)) {
            Object o = c.poll(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (o instanceof Message.PeerJoined pj) {
                assertTrue(view.add(pj.uid()), "uid " + self + " saw PEER_JOINED(" + pj.uid() + ") twice");
            } else {
                fail("uid " + self + " view " + view + " never reached " + expected + "; got " + o);
            }
        }
    }
}
