package io.roomlink;

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
}
