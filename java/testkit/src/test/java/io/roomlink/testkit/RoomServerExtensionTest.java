package io.roomlink.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RoomServerExtensionTest {
    @RegisterExtension
    static RoomServerExtension rooms = RoomServerExtension.withFaultProxy();

    private static TestRoomServer previous;
    private TestRoomServer fromBeforeEach;

    @BeforeEach
    void setUp(TestRoomServer server) {
        fromBeforeEach = server;
    }

    @Test
    @Order(1)
    void givesEachTestAServerBehindAProxy(TestRoomServer server, FaultProxy proxy) throws IOException {
        assertSame(rooms.server(), server);
        assertSame(fromBeforeEach, server);
        assertSame(rooms.proxy(), proxy);
        assertSame(server.proxy(), proxy);
        try (WireClient client = new WireClient(server.clientHost(), server.clientSignalPort(), server.trustedCertificatesPem())) {
            client.join("demo", "room-1", 1, server.token("demo", "room-1", 1), 1);
            client.readUntil(WireClient.JOIN_OK, Duration.ofSeconds(5));
        }
        previous = server;
    }

    @Test
    @Order(2)
    void closesTheServerAfterEachTestAndStartsAFreshOne(TestRoomServer server) {
        assertNotNull(previous);
        assertTrue(previous != server, "a fresh server per test");
        assertThrows(IllegalStateException.class, previous::server, "the last test's server is closed");
        assertThrows(IllegalStateException.class, () -> previous.proxy().restore(), "and its proxy too");
        assertEquals(0, server.server().sessionCount());
    }
}
