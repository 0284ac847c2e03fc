package io.roomlink.server;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Starts loopback servers with test-friendly timings and closes everything a test opened. */
final class TestServers implements AutoCloseable {
    static final Duration GRACE = Duration.ofSeconds(1);

    private final List<AutoCloseable> resources = new ArrayList<>();

    /** Loopback, ephemeral ports, 1 s grace, 10 s idle timeout (tests that need idling set it). */
    RoomServer.Builder builder() {
        return RoomServer.builder()
                .bindAddress("127.0.0.1")
                .signalPort(0)
                .mediaPort(0)
                .sessionGrace(GRACE)
                .idleTimeout(Duration.ofSeconds(10));
    }

    RoomServer start(RoomServer.Builder b) {
        return track(b.start());
    }

    RoomServer start() {
        return start(builder());
    }

    TestClient client(RoomServer server) throws Exception {
        return track(TestClient.connect(server.signalPort()));
    }

    MediaClient media(RoomServer server) throws Exception {
        return track(new MediaClient(server.mediaPort()));
    }

    <T extends AutoCloseable> T track(T resource) {
        resources.add(resource);
        return resource;
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing test resources failed", e);
                }
            }
        }
        resources.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
