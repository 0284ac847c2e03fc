package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.HostileServerSupport.SlowListener;
import io.roomlink.server.protocol.Message;
import io.roomlink.testkit.ScriptedServer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * A server that announces peers endlessly while the app's listener is slow: the engine knows at
 * most 10,000 peers (presence.h), the callback queue coalesces presence per uid (PendingCallbacks),
 * so the heap stays bounded, the engine stays CONNECTED and close() is prompt.
 */
class HostileServerPresenceTest {
    private static final int MAX_PEERS = 10_000;
    private static final long HEAP_BOUND = 64L << 20;

    @Test
    void endlessDistinctPeerJoinedWithASlowListenerKeepsTheHeapBounded() throws Exception {
        // 30 x the cap announced, 0.1 ms per presence callback: unbounded, this queue alone would
        // hold 300,000 callbacks.
        Flooded f = flood(ScriptedServer::peerJoinedFlood, 100_000, 30L * MAX_PEERS, "the flood");
        assertTrue(f.listener.joined.get() <= MAX_PEERS, "told of " + f.listener.joined.get() + " peers");
        System.out.printf("presence flood: %d PEER_JOINED sent, heap +%d KiB, %d peers reported, close() %d ms%n",
                f.sent, f.heapGrowth >> 10, f.listener.joined.get(), f.close.toMillis());
    }

    @Test
    void endlessJoinLeaveChurnWithASlowListenerIsCoalescedAndBounded() throws Exception {
        // Distinct uids, each joining and leaving, 1 ms per presence callback: the core's cap never
        // fills, the queue coalesces.
        Flooded f = flood(ScriptedServer::joinLeaveChurn, 1_000_000, 300_000, "the churn");
        // Change-only and consistent: never told of a leave without the join before it.
        assertTrue(f.listener.left.get() <= f.listener.joined.get());
        System.out.printf("presence churn: %d join/leave pairs sent, heap +%d KiB, %d joins / %d leaves reported,"
                + " close() %d ms%n", f.sent, f.heapGrowth >> 10, f.listener.joined.get(), f.listener.left.get(),
                f.close.toMillis());
    }

    /** What a presence flood left: the listener's counts, what was sent, the heap's growth, close()'s time. */
    private record Flooded(SlowListener listener, long sent, long heapGrowth, Duration close) {
    }

    /**
     * An engine whose listener takes {@code presenceNanos} per presence callback, joined to a server
     * running {@code script} until it has sent {@code atLeast}; then what must hold whatever the
     * flood: the heap grew by less than {@link #HEAP_BOUND}, the engine is still CONNECTED, and
     * close() is prompt.
     */
    private static Flooded flood(Function<AtomicLong, ScriptedServer.AfterAnswer> script, long presenceNanos,
            long atLeast, String what) throws Exception {
        try (ScriptedServer server = new ScriptedServer()) {
            AtomicLong sent = new AtomicLong();
            server.afterAnswer = script.apply(sent);
            long before = HostileServerSupport.heapAfterGc();
            SlowListener listener = new SlowListener(presenceNanos);
            RoomEngine engine = HostileServerSupport.joined(server, HostileServerSupport.config(server), listener);
            Fixtures.awaitTrue(() -> sent.get() >= atLeast, Duration.ofSeconds(30), what);
            long during = HostileServerSupport.heapAfterGc();
            assertTrue(during - before < HEAP_BOUND, "heap grew by " + ((during - before) >> 20) + " MiB");
            assertEquals(ConnectionState.CONNECTED, listener.state);
            Duration close = HostileServerSupport.timedClose(engine);
            assertTrue(close.toMillis() <= 500, "close() took " + close.toMillis() + " ms");
            return new Flooded(listener, sent.get(), during - before, close);
        }
    }

    @Test
    void theCapIsTheEnginesMaxPeers() throws Exception {
        try (ScriptedServer server = new ScriptedServer()) {
            AtomicLong sent = new AtomicLong();
            server.afterAnswer = conn -> {
                for (long uid = 1; uid <= 1000; uid++) {
                    conn.send(new Message.PeerJoined(uid));
                    sent.incrementAndGet();
                }
            };
            SlowListener listener = new SlowListener(0);
            RoomEngine engine = HostileServerSupport.joined(server, HostileServerSupport.config(server).maxPeers(100), listener);
            Fixtures.awaitTrue(() -> listener.joined.get() >= 100 && sent.get() == 1000, Fixtures.WAIT,
                    "100 peers reported, 1000 announced");
            // The other 900 were dropped; a leave (behind them on the connection) makes room for one more.
            server.conns.get(0).send(new Message.PeerLeft(1, 0));
            server.conns.get(0).send(new Message.PeerJoined(5000));
            Fixtures.awaitTrue(() -> listener.joined.get() == 101 && listener.left.get() == 1, Fixtures.WAIT,
                    "the leave of 1 and the join of 5000");
            assertEquals(ConnectionState.CONNECTED, listener.state);
            engine.close();
        }
    }
}
