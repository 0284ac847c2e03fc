package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static io.roomlink.Fixtures.config;
import static io.roomlink.Fixtures.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CallbackDeliveryTest extends LoopbackServerTest {
    @Test
    void aThrowingListenerStillGetsTheNextCallback() {
        RecordingListener recorder = new RecordingListener();
        RoomEngineListener throwing = new RoomEngineListener() {
            @Override
            public void onConnectionStateChanged(ConnectionState state, ConnectionStateChangeReason reason) {
                recorder.onConnectionStateChanged(state, reason);
                throw new IllegalStateException("listener bug (expected by this test)");
            }

            @Override
            public void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
                recorder.onJoinChannel(result, channelId, elapsedMs, uid);
            }
        };
        try (RoomEngine engine = engine(throwing)) {
            engine.joinChannel(token("room-1", 1), "room-1", 1);
            assertEquals(List.of(
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=1)"), recorder.awaitEvent("onJoinChannel(OK, uid=1)", WAIT));
        }
    }

    @Test
    void aSlowListenerDoesNotStallTheCore() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        RecordingListener recorder = new RecordingListener();
        RoomEngineListener slow = new RoomEngineListener() {
            @Override
            public void onConnectionStateChanged(ConnectionState state, ConnectionStateChangeReason reason) {
                awaitQuietly(release);
                recorder.onConnectionStateChanged(state, reason);
            }

            @Override
            public void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
                recorder.onJoinChannel(result, channelId, elapsedMs, uid);
            }
        };
        try (RoomEngine engine = engine(slow)) {
            engine.joinChannel(token("room-2", 1), "room-2", 1);
            // The first callback is blocked, yet the core connects and other engines' callbacks flow.
            Fixtures.awaitTrue(() -> engine.getConnectionState() == ConnectionState.CONNECTED, WAIT,
                    "core to connect while the listener is blocked");
            RecordingListener other = new RecordingListener("other");
            try (RoomEngine otherEngine = engine(other)) {
                Fixtures.joinAndAwait(otherEngine, other, "room-2", 2);
            }
            assertEquals(List.of(), recorder.events());
            release.countDown();
            assertEquals(List.of(
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=1)"), recorder.awaitEvent("onJoinChannel(OK, uid=1)", WAIT));
        } finally {
            release.countDown();
        }
    }

    @Test
    void callbacksRunOnTheAppsExecutorWhenGiven() throws InterruptedException {
        ExecutorService uiThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "app-ui-thread"));
        try {
            List<String> threads = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            RecordingListener recorder = new RecordingListener();
            RoomEngineListener listener = new RoomEngineListener() {
                @Override
                public void onConnectionStateChanged(ConnectionState state, ConnectionStateChangeReason reason) {
                    threads.add(Thread.currentThread().getName());
                    recorder.onConnectionStateChanged(state, reason);
                }

                @Override
                public void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
                    threads.add(Thread.currentThread().getName());
                    recorder.onJoinChannel(result, channelId, elapsedMs, uid);
                }
            };
            try (RoomEngine engine = RoomEngine.create(config(server()).callbackExecutor(uiThread).build(), listener)) {
                Fixtures.joinAndAwait(engine, recorder, "room-3", 1);
            }
            assertEquals(List.of("app-ui-thread", "app-ui-thread", "app-ui-thread"), threads);
        } finally {
            uiThread.shutdown();
            assertTrue(uiThread.awaitTermination(5, TimeUnit.SECONDS));
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
