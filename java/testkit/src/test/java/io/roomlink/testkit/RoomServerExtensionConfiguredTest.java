package io.roomlink.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RoomServerExtensionConfiguredTest {
    private final TestRoomServer.Builder settings = TestRoomServer.builder()
            .withFaultProxy(5).sessionGrace(Duration.ofSeconds(1)).tokenSecret("s3cret");

    @RegisterExtension
    final RoomServerExtension rooms = RoomServerExtension.of(settings);

    RoomServerExtensionConfiguredTest() {
        settings.tokenSecret("changed"); // after of(): must not reach the extension
    }

    @Test
    void usesTheGivenSettings(FaultProxy proxy) {
        assertEquals("s3cret", rooms.server().tokenSecret());
        assertEquals(5, proxy.seed());
        assertTrue(rooms.server().hasFaultProxy());
    }
}
