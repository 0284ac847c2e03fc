package io.roomlink.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Which session each mediaKey names, server-wide: the room executors register and remove keys
 * (each for the sessions of its own shard), the media loop looks them up for every datagram.
 *
 * <p>A session has one current key, the one named by its last JOIN/RESUME. A new key is unbound
 * until its BIND arrives; meanwhile the last bound key stays registered, so PINGs from the old
 * binding keep the media side healthy (docs/PROTOCOL.md), and goes once the new key is bound.
 * The per-session fields this uses ({@link Session#mediaBound}, {@link Session#hasPreviousKey},
 * {@link Session#previousMediaKey}) are written here only.
 */
final class MediaBindings {
    private static final Logger log = LoggerFactory.getLogger(MediaBindings.class);

    private final ConcurrentMap<Long, Session> byKey = new ConcurrentHashMap<>();

    /** Any thread: the session {@code key} is registered for, or {@code null}. */
    Session lookup(long key) {
        return byKey.get(key);
    }

    /**
     * Room executor of {@code s}: makes {@code key} its current mediaKey (JOIN, RESUME). A key
     * already registered for another session moves to {@code s}.
     */
    void register(Session s, long key) {
        if (s.mediaKey != key) {
            if (s.mediaBound) {
                if (s.hasPreviousKey) {
                    byKey.remove(s.previousMediaKey, s);
                }
                s.previousMediaKey = s.mediaKey; // bound: keep it until the new key is bound
                s.hasPreviousKey = true;
            } else {
                byKey.remove(s.mediaKey, s); // never bound: nothing to keep
            }
            if (s.hasPreviousKey && s.previousMediaKey == key) {
                s.hasPreviousKey = false; // back to the previous key: it is the current one again
            }
            s.mediaBound = false;
            s.mediaKey = key; // before the put: a media loop that finds s under key sees it
        }
        Session previous = byKey.put(key, s);
        if (previous != null && previous != s) {
            log.warn("mediaKey {} of {} reused by {}: the binding moves to the newer session",
                    Long.toHexString(key), previous, s);
        }
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
                byKey.remove(s.previousMediaKey, s); // the old binding has served its time
                s.hasPreviousKey = false;
            }
        }
        return true;
    }

    /** Room executor of {@code s}: the session is gone; its keys go with it (unless already moved on). */
    void remove(Session s) {
        byKey.remove(s.mediaKey, s);
        if (s.hasPreviousKey) {
            byKey.remove(s.previousMediaKey, s);
            s.hasPreviousKey = false;
        }
    }

    int size() {
        return byKey.size();
    }
}
