package io.roomlink.server;

import io.roomlink.server.protocol.MediaKeys;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Which session, and which AEAD keys, each mediaKey names, server-wide: the room executors
 * register and remove keys (each for the sessions of its own shard), the media loop looks them up
 * for every datagram.
 *
 * <p>A session has one current key, the one named by its last JOIN/RESUME. A new key is unbound
 * until its BIND arrives; meanwhile the last bound key stays registered, under its own keys, so
 * PINGs from the old binding keep the media side healthy (docs/PROTOCOL.md), and goes once the
 * new key is bound. The per-session fields this uses ({@link Session#mediaBound},
 * {@link Session#hasPreviousKey}, {@link Session#previousMediaKey}) are written here only.
 *
 * <p>A key belongs to the session that registered it first: a later JOIN/RESUME of another
 * session naming it does not take it (a client that learnt someone's key cannot hijack its
 * media path by naming it; its own datagrams fail against the holder's keys).
 */
final class MediaBindings {
    private final ConcurrentMap<Long, MediaKeyState> byKey = new ConcurrentHashMap<>();

    /** Any thread: the state {@code key} is registered with, or {@code null}. */
    MediaKeyState lookup(long key) {
        return byKey.get(key);
    }

    /** Any thread: the session {@code key} is registered for, or {@code null}. */
    Session session(long key) {
        MediaKeyState e = byKey.get(key);
        return e == null ? null : e.session;
    }

    /**
     * Room executor of {@code s}: makes {@code key}, keyed by {@code mediaSecret}, its current
     * mediaKey (JOIN, RESUME).
     *
     * @return {@code false} if another session holds {@code key}: it stays with that session
     *         (the caller counts the conflict), and {@code s} has a current key nobody can bind
     */
    boolean register(Session s, long key, byte[] mediaSecret) {
        MediaKeys keys = MediaKeys.derive(key, mediaSecret);
        if (s.mediaKey != key) {
            if (s.mediaBound) {
                if (s.hasPreviousKey) {
                    removeIfOwned(s.previousMediaKey, s);
                }
                s.previousMediaKey = s.mediaKey; // bound: keep it until the new key is bound
                s.hasPreviousKey = true;
            } else {
                removeIfOwned(s.mediaKey, s); // never bound: nothing to keep
            }
            if (s.hasPreviousKey && s.previousMediaKey == key) {
                s.hasPreviousKey = false; // back to the previous key: it is the current one again
            }
            s.mediaBound = false;
            s.mediaKey = key; // before the put: a media loop that finds s under key sees it
        }
        MediaKeyState fresh = new MediaKeyState(s, key, keys);
        MediaKeyState now = byKey.compute(key, (k, e) -> {
            if (e == null) {
                return fresh;
            }
            if (e.session != s) {
                return e; // held by another session
            }
            // Same session names the key again: same secret keeps the window (no replays of what
            // it already saw); a new secret means new keys, under which old datagrams fail anyway.
            return java.util.Arrays.equals(e.keys.clientToServerBytes(), keys.clientToServerBytes()) ? e : fresh;
        });
        return now.session == s;
    }

    /**
     * Room executor of {@code s}: the media loop accepted a BIND of {@code key} for {@code s}. The
     * first BIND of the current key retires the previous key.
     *
     * @return whether {@code key} is the session's current key (false: a RESUME has named another since)
     */
    boolean bound(Session s, long key) {
        if (s.mediaKey != key) {
            return false;
        }
        if (!s.mediaBound) {
            s.mediaBound = true;
            if (s.hasPreviousKey) {
                removeIfOwned(s.previousMediaKey, s); // the old binding has served its time
                s.hasPreviousKey = false;
            }
        }
        return true;
    }

    /** Room executor of {@code s}: the session is gone; its keys go with it (unless held by another). */
    void remove(Session s) {
        removeIfOwned(s.mediaKey, s);
        if (s.hasPreviousKey) {
            removeIfOwned(s.previousMediaKey, s);
            s.hasPreviousKey = false;
        }
    }

    private void removeIfOwned(long key, Session s) {
        byKey.computeIfPresent(key, (k, e) -> e.session == s ? null : e);
    }

    int size() {
        return byKey.size();
    }
}
