package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.HostileServerSupport.SlowListener;
import io.roomlink.testkit.ScriptedServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A server that answers every JOIN / RESUME twice (the second is a protocol error): reconnects are
 * damped (reconnect_driver.h: no backoff reset for short sessions, attempts at least 100 ms apart)
 * instead of ~150 a second.
 */
class HostileServerReconnectTest {
    @Test
    void doubleAnswersGetDampedAttempts() throws Exception {
        try (ScriptedServer server = new ScriptedServer()) {
            server.answerTwice = true;
            SlowListener listener = new SlowListener(0);
            RoomEngine engine = RoomEngine.create(HostileServerSupport.config(server).build(), listener);
            engine.joinChannel("", "room", 42);
            long start = System.nanoTime();
            Fixtures.awaitTrue(() -> System.nanoTime() - start > Duration.ofSeconds(4).toNanos(),
                    Duration.ofSeconds(10), "4 s of attempts");
            int attempts = server.accepted.get();
            Duration close = HostileServerSupport.timedClose(engine);
            // Default backoff 250 ms doubling: 0, 0.25, 0.75, 1.75, 3.75 s: 5 in 4 s. Goal: a few per second.
            assertTrue(attempts <= 8, attempts + " attempts in 4 s");
            assertTrue(close.toMillis() <= 500, "close() took " + close.toMillis() + " ms");
            System.out.printf("double answers: %d attempts in 4 s, %d connected, close() %d ms%n",
                    attempts, listener.connectedTimes.get(), close.toMillis());
        }
    }
}
