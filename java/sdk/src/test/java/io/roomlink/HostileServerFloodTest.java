package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.roomlink.HostileServerSupport.SlowListener;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import io.roomlink.testkit.ScriptedServer;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * PONG floods on the signal and the media path: the shared loop reads a budget per wakeup
 * (read_budget.h), so another engine on the same loop still joins, and close() stays prompt.
 */
class HostileServerFloodTest {
    @Test
    void signalPongFloodDoesNotStarveTheLoopAndCloseIsPrompt() throws Exception {
        try (ScriptedServer hostile = new ScriptedServer(); ScriptedServer honest = new ScriptedServer()) {
            ByteBuf buf = Unpooled.buffer();
            for (int i = 0; i < 4096; i++) {
                WireCodec.encode(new Message.Pong(1L << 40), buf);
            }
            byte[] burst = ByteBufUtil.getBytes(buf);
            hostile.afterAnswer = ScriptedServer.rawFlood("pong-flood", burst);
            SlowListener victim = new SlowListener(0);
            RoomEngine flooded = HostileServerSupport.joined(hostile, HostileServerSupport.config(hostile), victim);
            SlowListener other = new SlowListener(0);
            long start = System.nanoTime();
            RoomEngine bystander = HostileServerSupport.joined(honest, HostileServerSupport.config(honest), other);
            long joinMs = (System.nanoTime() - start) / 1_000_000;
            Duration close = HostileServerSupport.timedClose(flooded);
            assertTrue(close.toMillis() <= 500, "close() took " + close.toMillis() + " ms");
            assertEquals(ConnectionState.CONNECTED, other.state);
            assertEquals(1, other.connectedTimes.get());
            bystander.close();
            System.out.printf("signal PONG flood: bystander joined in %d ms, close() %d ms%n", joinMs, close.toMillis());
        }
    }

    @Test
    void mediaPongFloodWithMadeUpEchoesIsNotLivenessAndCloseIsPrompt() throws Exception {
        try (ScriptedServer server = new ScriptedServer()) {
            SlowListener listener = new SlowListener(0);
            RoomEngineConfig.Builder config = HostileServerSupport.config(server).mediaTimeout(Duration.ofSeconds(2));
            RoomEngine engine = HostileServerSupport.joined(server, config, listener);
            SocketAddress client = server.mediaClient;
            long key = server.mediaKey;
            server.answerMediaPings = false;
            AtomicLong sent = new AtomicLong();
            long start = System.nanoTime();
            Thread flood = new Thread(() -> {
                try {
                    for (int seq = 0; !Thread.currentThread().isInterrupted(); seq++) {
                        // The session's own key, but echoing no PING the engine sent.
                        server.sendMedia(client, new MediaPacket(MediaCodec.PONG, key, seq, 1 + (seq & 0xFFFF)));
                        sent.incrementAndGet();
                    }
                } catch (Exception e) {
                    // the socket is closed: the test is over
                }
            }, "media-flood");
            flood.start();
            try {
                Fixtures.awaitTrue(() -> listener.reconnecting.get() > 0, Duration.ofSeconds(10), "RECONNECTING");
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertTrue(ms <= 2000 * 3, "media outage reported after " + ms + " ms");
                Duration close = HostileServerSupport.timedClose(engine);
                assertTrue(close.toMillis() <= 500, "close() took " + close.toMillis() + " ms");
                System.out.printf("media PONG flood: %d datagrams, outage after %d ms, close() %d ms%n",
                        sent.get(), ms, close.toMillis());
            } finally {
                flood.interrupt();
                flood.join();
            }
        }
    }
}
