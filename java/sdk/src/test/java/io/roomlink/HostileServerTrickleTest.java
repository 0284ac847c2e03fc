package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.roomlink.HostileServerSupport.SlowListener;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.WireCodec;
import io.roomlink.testkit.ScriptedServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A server that stops answering PINGs on both paths but sends one byte per 100 ms: bytes are not
 * liveness (only valid, expected frames are), so the engine reports the outage at the timeout
 * instead of staying CONNECTED forever.
 */
class HostileServerTrickleTest {
    @Test
    void byteTrickleDoesNotKeepTheEngineConnected() throws Exception {
        try (ScriptedServer server = new ScriptedServer()) {
            SlowListener listener = new SlowListener(0);
            RoomEngineConfig.Builder config = HostileServerSupport.config(server)
                    .signalTimeout(Duration.ofSeconds(2)).mediaTimeout(Duration.ofSeconds(2));
            RoomEngine engine = HostileServerSupport.joined(server, config, listener);
            server.answerSignalPings = false;
            server.answerMediaPings = false;
            long start = System.nanoTime();
            // One byte at a time of PONG frames no PING asked for: valid frames now and then, never liveness.
            ByteBuf buf = Unpooled.buffer();
            WireCodec.encode(new Message.Pong(1L << 40), buf);
            byte[] pong = ByteBufUtil.getBytes(buf);
            Thread trickle = new Thread(() -> {
                for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                    byte[] one = {pong[i % pong.length]};
                    server.conns.forEach(c -> c.sendRaw(one));
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L); // the attack's own pace
                }
            }, "trickle");
            trickle.start();
            try {
                Fixtures.awaitTrue(() -> listener.reconnecting.get() > 0, Duration.ofSeconds(10), "RECONNECTING");
                long ms = (System.nanoTime() - start) / 1_000_000;
                // Not before media's silence threshold (RTT-adaptive: 950 ms after the last PONG on
                // loopback, within the 2 s cap) less the one keepalive interval (500 ms) that PONG
                // may predate the start by.
                assertTrue(ms >= 450, "outage reported after " + ms + " ms: not the silence threshold");
                assertTrue(ms <= 2000 * 3, "outage reported after " + ms + " ms");
                Duration close = HostileServerSupport.timedClose(engine);
                assertTrue(close.toMillis() <= 500, "close() took " + close.toMillis() + " ms");
                System.out.printf("byte trickle: RECONNECTING after %d ms, close() %d ms%n", ms, close.toMillis());
            } finally {
                trickle.interrupt();
                trickle.join();
            }
        }
    }
}
