package io.roomlink.bench.harness;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.RoomEngineListener;
import io.roomlink.UserLeaveReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * An in-process engine's listener: every callback with the System.nanoTime() at which it ran
 * (the client's own view of when something happened), and waiting for callbacks with a deadline.
 */
public final class Probe implements RoomEngineListener {
    public enum Kind { STATE, JOIN, REJOIN, LEAVE, RECONNECTING_START, DISCONNECT, USER_JOINED, USER_LEFT }

    /** {@code elapsedMs} is the core's own join time (onJoinChannel), else 0. */
    public record Ev(long nanos, Kind kind, ConnectionState state, ConnectionStateChangeReason reason, int code, long uid,
              UserLeaveReason leaveReason, long elapsedMs) {
        public boolean is(ConnectionState s) {
            return kind == Kind.STATE && state == s;
        }

        public boolean is(ConnectionState s, ConnectionStateChangeReason r) {
            return kind == Kind.STATE && state == s && reason == r;
        }

        @Override
        public String toString() {
            return switch (kind) {
                case STATE -> "state(" + state + ", " + reason + ")";
                case JOIN -> "onJoinChannel(" + code + ", uid=" + uid + ")";
                case REJOIN -> "onRejoinChannel(" + code + ")";
                case LEAVE -> "onLeaveChannel(" + code + ")";
                case RECONNECTING_START -> "onReconnectingStart()";
                case DISCONNECT -> "onDisconnect(" + code + ")";
                case USER_JOINED -> "onUserJoined(" + uid + ")";
                case USER_LEFT -> "onUserLeave(" + uid + ", " + leaveReason + ")";
            };
        }
    }

    public final String name;
    private final List<Ev> events = new ArrayList<>();

    public Probe(String name) {
        this.name = name;
    }

    private void add(Kind kind, ConnectionState s, ConnectionStateChangeReason r, int code, long uid,
                     UserLeaveReason lr) {
        add(kind, s, r, code, uid, lr, 0);
    }

    private void add(Kind kind, ConnectionState s, ConnectionStateChangeReason r, int code, long uid,
                     UserLeaveReason lr, long elapsedMs) {
        long now = System.nanoTime();
        synchronized (this) {
            events.add(new Ev(now, kind, s, r, code, uid, lr, elapsedMs));
            notifyAll();
        }
    }

    @Override
    public void onConnectionStateChanged(ConnectionState state, ConnectionStateChangeReason reason) {
        add(Kind.STATE, state, reason, 0, 0, null);
    }

    @Override
    public void onJoinChannel(int result, long channelId, long elapsedMs, long uid) {
        add(Kind.JOIN, null, null, result, uid, null, elapsedMs);
    }

    @Override
    public void onRejoinChannel(int result, long channelId) {
        add(Kind.REJOIN, null, null, result, 0, null);
    }

    @Override
    public void onLeaveChannel(int result) {
        add(Kind.LEAVE, null, null, result, 0, null);
    }

    @Override
    public void onReconnectingStart() {
        add(Kind.RECONNECTING_START, null, null, 0, 0, null);
    }

    @Override
    public void onDisconnect(int reason) {
        add(Kind.DISCONNECT, null, null, reason, 0, null);
    }

    @Override
    public void onUserJoined(long uid) {
        add(Kind.USER_JOINED, null, null, 0, uid, null);
    }

    @Override
    public void onUserLeave(long uid, UserLeaveReason reason) {
        add(Kind.USER_LEFT, null, null, 0, uid, reason);
    }

    public synchronized int size() {
        return events.size();
    }

    public synchronized List<Ev> since(int index) {
        return new ArrayList<>(events.subList(Math.min(index, events.size()), events.size()));
    }

    /** The first event at or after {@code index} that matches, waiting up to {@code timeout}; null if none came. */
    public synchronized Ev await(int index, Predicate<Ev> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int scanned = index;
        while (true) {
            for (; scanned < events.size(); scanned++) {
                Ev e = events.get(scanned);
                if (match.test(e)) {
                    return e;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /** Like {@link #await} but a missing event fails the scenario's checks. */
    public Ev require(int index, Predicate<Ev> match, Duration timeout, String what) {
        Ev e = await(index, match, timeout);
        if (e == null) {
            throw new CheckFailed(name + ": no " + what + " within " + timeout.toMillis() + " ms; events: " + since(index));
        }
        return e;
    }

    public synchronized long count(int index, Predicate<Ev> match) {
        return events.subList(Math.min(index, events.size()), events.size()).stream().filter(match).count();
    }
}
