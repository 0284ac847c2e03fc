package io.roomlink;

import static io.roomlink.Fixtures.config;
import static io.roomlink.Fixtures.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.internal.NativeRuntime;
import io.roomlink.server.RoomServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class CapacityTest {
    private static final int ENGINES = 200;
    private static final int PER_CHANNEL = 10;
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void twoHundredEnginesJoinAndLeaveOnAFixedNumberOfNativeThreads() throws IOException {
        try (RoomServer server = Fixtures.server().start()) {
            RoomEngineConfig cfg = config(server).build();
            List<RoomEngine> engines = new ArrayList<>();
            List<RecordingListener> listeners = new ArrayList<>();
            try {
                for (int i = 0; i < ENGINES; i++) {
                    RecordingListener l = new RecordingListener("engine-" + i);
                    listeners.add(l);
                    engines.add(RoomEngine.create(cfg, l));
                }
                long loopThreadsBefore = nativeLoopThreads();
                for (int i = 0; i < ENGINES; i++) {
                    String channel = "cap-" + (i / PER_CHANNEL);
                    assertEquals(ErrorCode.OK, engines.get(i).joinChannel(token(channel, i), channel, i));
                }
                for (int i = 0; i < ENGINES; i++) {
                    listeners.get(i).awaitEvent("onJoinChannel(OK, uid=" + i + ")", WAIT);
                }
                for (int i = 0; i < ENGINES; i++) {
                    int peers = PER_CHANNEL - 1;
                    listeners.get(i).await(l -> l.stream().filter(e -> e.startsWith("onUserJoined")).count() == peers,
                            WAIT, peers + " peers");
                }
                long loopThreadsJoined = nativeLoopThreads();
                assertEquals(NativeRuntime.loopThreads(), loopThreadsJoined,
                        "native loop threads are the fixed pool, not one per engine");
                assertTrue(loopThreadsJoined <= 2, "default pool is at most 2 threads: " + loopThreadsJoined);
                assertEquals(loopThreadsBefore, loopThreadsJoined, "joining added no native threads");
                assertEquals(ENGINES, server.sessionCount());

                for (RoomEngine e : engines) {
                    assertEquals(ErrorCode.OK, e.leaveChannel());
                }
                for (RecordingListener l : listeners) {
                    l.awaitEvent("onLeaveChannel(OK)", WAIT);
                }
                Fixtures.awaitTrue(() -> server.sessionCount() == 0, WAIT, "server to drop every session");
                assertEquals(loopThreadsJoined, nativeLoopThreads(), "leaving changed no native threads");
                for (RecordingListener l : listeners) {
                    assertEquals(List.of(), l.violations());
                }
            } finally {
                engines.forEach(RoomEngine::close);
            }
        }
    }

    /** Threads of this process whose OS name marks them as native loop threads. */
    private static long nativeLoopThreads() throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            return tasks.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).startsWith("roomlink-loop");
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }
}
