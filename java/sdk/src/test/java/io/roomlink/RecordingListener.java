package io.roomlink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Records every callback as a line of text, in order, and lets tests wait for lines with a
 * deadline. It also checks the threading contract on every call: never on a native loop
 * thread, never two at once.
 */
class RecordingListener implements RoomEngineListener {
    private final String name;
    private final List<String> events = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long channelId;
    private volatile long joinElapsedMs = -1;

    RecordingListener(String name) {
        this.name = name;
    }

    RecordingListener() {
        this("engine");
    }

    long channelId() {
        return channelId;
    }

    long joinElapsedMs() {
        return joinElapsedMs;
    }

    @Override
    public void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
        if (result == 0) {
            this.channelId = channelId;
            this.joinElapsedMs = elapsedMs;
        }
        record("onJoinChannel(" + ErrorCode.nameOf(result) + ", uid=" + uid + ")");
    }

    @Override
    public void onLeaveChannel(int result) {
        record("onLeaveChannel(" + ErrorCode.nameOf(result) + ")");
    }

    @Override
    public void onRejoinChannel(int result, long channelId) {
        record("onRejoinChannel(" + ErrorCode.nameOf(result) + ")");
    }

    @Override
    public void onReconnectingStart() {
        record("onReconnectingStart()");
    }

    @Override
    public void onDisconnect(int reason) {
        record("onDisconnect(" + ErrorCode.nameOf(reason) + ")");
    }

    @Override
    public void onConnectionStateChanged(ConnectionState state, ConnectionStateChangeReason reason) {
        record("state(" + state + ", " + reason + ")");
    }

    @Override
    public void onUserJoined(long uid) {
        record("onUserJoined(" + uid + ")");
    }

    @Override
    public void onUserLeave(long uid, UserLeaveReason reason) {
        record("onUserLeave(" + uid + ", " + reason + ")");
    }

    @Override
    public void onTokenWillExpire() {
        record("onTokenWillExpire()");
    }

    @Override
    public void onRenewTokenResult(int result) {
        record("onRenewTokenResult(" + ErrorCode.nameOf(result) + ")");
    }

    /** Messages are recorded as {@code onMessage(<from>, <data as UTF-8>)}; tests send text. */
    @Override
    public void onMessage(long fromUid, byte[] data) {
        record("onMessage(" + fromUid + ", " + new String(data, java.nio.charset.StandardCharsets.UTF_8) + ")");
    }

    @Override
    public void onMessagesUndelivered(int count, int reason) {
        record("onMessagesUndelivered(" + count + ", " + ErrorCode.nameOf(reason) + ")");
    }

    private void record(String line) {
        if (inFlight.incrementAndGet() != 1) {
            violation("two callbacks ran at once: " + line);
        }
        String thread = Thread.currentThread().getName();
        if (thread.startsWith("roomlink-loop")) {
            violation("callback on a native loop thread " + thread + ": " + line);
        }
        synchronized (this) {
            events.add(line);
            notifyAll();
        }
        onRecorded(line);
        inFlight.decrementAndGet();
    }

    /** Hook for subclasses that also want to see each line as it is recorded. */
    void onRecorded(String line) {
    }

    /** Records a line that came from elsewhere (another process), with the same waiting support. */
    synchronized void recordExternal(String line) {
        events.add(line);
        notifyAll();
    }

    private synchronized void violation(String what) {
        violations.add(what);
    }

    /** Forgets the events so far (the setup's), so that a test can assert exact sequences after it. */
    synchronized void clear() {
        events.clear();
    }

    synchronized List<String> events() {
        return new ArrayList<>(events);
    }

    synchronized List<String> violations() {
        return new ArrayList<>(violations);
    }

    /** Waits until some recorded line satisfies the predicate; returns all lines up to then. */
    synchronized List<String> await(Predicate<List<String>> condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test(events)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError(name + ": timed out after " + timeout.toMillis() + " ms waiting for "
                        + what + "; events so far: " + events);
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
        return new ArrayList<>(events);
    }

    List<String> awaitEvent(String line, Duration timeout) {
        return await(list -> list.contains(line), timeout, line);
    }

    List<String> awaitCount(int count, Duration timeout) {
        return await(list -> list.size() >= count, timeout, count + " events");
    }

    /** Waits for the line, then returns the events recorded so far. */
    List<String> awaitEvent(String line) {
        return awaitEvent(line, Duration.ofSeconds(10));
    }
}
