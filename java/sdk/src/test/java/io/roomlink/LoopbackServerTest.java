package io.roomlink;

import static io.roomlink.Fixtures.config;

import io.roomlink.server.RoomServer;
import io.roomlink.testkit.RoomServerExtension;
import io.roomlink.testkit.TestRoomServer;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Base of the tests that get a fresh loopback server for each test, its tokens signed with {@link Fixtures#SECRET}. */
abstract class LoopbackServerTest {
    @RegisterExtension
    final RoomServerExtension rooms = RoomServerExtension.of(TestRoomServer.builder().tokenSecret(Fixtures.SECRET));

    final RoomServer server() {
        return rooms.server().server();
    }

    /** An engine for this test's server, at the fixtures' defaults, telling {@code listener}. */
    final RoomEngine engine(RoomEngineListener listener) {
        return RoomEngine.create(config(server()).build(), listener);
    }
}
