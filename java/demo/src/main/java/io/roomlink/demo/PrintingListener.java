package io.roomlink.demo;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.ErrorCode;
import io.roomlink.RoomEngineListener;
import io.roomlink.UserLeaveReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Prints every callback on the timeline, and lets the demo wait for one. */
final class PrintingListener implements RoomEngineListener {
    private final String user;
    private final Timeline timeline;
    private final List<String> seen = new ArrayList<>();

    PrintingListener(String user, Timeline timeline) {
        this.user = user;
        this.timeline = timeline;
    }

    /** Waits until a callback starting with {@code prefix} has arrived. */
    void await(String prefix, Duration timeout) {
        await(prefix, timeout, 1);
    }

    /** Waits until {@code count} callbacks starting with {@code prefix} have arrived. */
    synchronized void await(String prefix, Duration timeout, int count) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (seen.stream().filter(s -> s.startsWith(prefix)).count() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException(user + " did not get " + prefix + " within " + timeout.toSeconds() + " s");
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted");
            }
        }
    }

    private void record(String line) {
        timeline.note(user, line);
        synchronized (this) {
            seen.add(line);
            notifyAll();
        }
    }

    @Override
    public void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
        record("onJoinChannel(result=" + ErrorCode.nameOf(result) + ", channelId=" + channelId + ", elapsed="
                + elapsedMs + " ms, uid=" + uid + ")");
    }

    @Override
    public void onLeaveChannel(int result) {
        record("onLeaveChannel(" + ErrorCode.nameOf(result) + ")");
    }

    @Override
    public void onRejoinChannel(int result, long channelId) {
        record("onRejoinChannel(" + ErrorCode.nameOf(result) + ", channelId=" + channelId + ")");
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
        record("onConnectionStateChanged(" + state + ", " + reason + ")");
    }

    @Override
    public void onUserJoined(long uid) {
        record("onUserJoined(" + uid + ")");
    }

    @Override
    public void onUserLeave(long uid, UserLeaveReason reason) {
        record("onUserLeave(" + uid + ", " + reason + ")");
    }
}
