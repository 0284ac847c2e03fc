package io.roomlink.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RoomServerExtension.class)
class RoomServerExtensionDefaultsTest {
    @Test
    void injectsAPlainServer(TestRoomServer server) throws IOException {
        assertFalse(server.hasFaultProxy());
        assertEquals(TestRoomServer.DEFAULT_TOKEN_SECRET, server.tokenSecret());
        try (WireClient client = new WireClient(server.clientHost(), server.clientSignalPort(), server.trustedCertificatesPem())) {
            client.join("demo", "room-1", 1, server.token("demo", "room-1", 1), 1);
            client.readUntil(WireClient.JOIN_OK, Duration.ofSeconds(5));
        }
    }

    @Test
    void hasNoServerOutsideATest() {
        assertThrows(IllegalStateException.class, () -> new RoomServerExtension().server());
    }
}
