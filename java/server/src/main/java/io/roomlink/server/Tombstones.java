package io.roomlink.server;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@link Tombstone}s of one shard: sessions that ended recently, kept for
 * {@code retentionNanos} so that a late RESUME gets a truthful answer. At most one tombstone per
 * (room, uid) stays resumable: a newer session of the same uid supersedes it. Bounded by
 * {@code capacity} (oldest forgotten first). Room executor only.
 */
final class Tombstones {
    private final long retentionNanos;
    private final int capacity;
    /** Insertion order = age order, so expiry stops at the first young one. */
    private final LinkedHashMap<Long, Tombstone> bySessionId = new LinkedHashMap<>();
    private final Map<Tombstone.Identity, Tombstone> resumableByIdentity = new HashMap<>();

    Tombstones(long retentionNanos, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive, got " + capacity);
        }
        this.retentionNanos = retentionNanos;
        this.capacity = capacity;
    }

    /** Remembers the ended session {@code s}: {@code code == 0} for an expiry (resumable afresh). */
    void remember(Session s, int code, String message, long nowNanos) {
        if (retentionNanos <= 0) {
            return;
        }
        Tombstone t = new Tombstone(s, code, message, nowNanos);
        bySessionId.put(t.sessionId, t);
        if (t.resumable()) {
            Tombstone prev = resumableByIdentity.put(identity(t), t);
            if (prev != null) {
                supersede(prev);
            }
        }
        if (bySessionId.size() > capacity) {
            forget(bySessionId.values().iterator().next());
        }
    }

    /** A newer session of ({@code key}, {@code uid}) exists: an older expired one may no longer come back. */
    void supersede(RoomKey key, long uid) {
        if (resumableByIdentity.isEmpty()) {
            return;
        }
        Tombstone t = resumableByIdentity.remove(new Tombstone.Identity(key, uid));
        if (t != null) {
            supersede(t);
        }
    }

    private static void supersede(Tombstone t) {
        t.endCode = ErrorCodes.SAME_UID_LOGIN;
        t.endMessage = "same uid joined elsewhere";
    }

    /** The tombstone of the session with this id, or {@code null}. */
    Tombstone get(long sessionId) {
        return bySessionId.get(sessionId);
    }

    boolean contains(long sessionId) {
        return bySessionId.containsKey(sessionId);
    }

    /** Forgets {@code t} (its RESUME has been answered). */
    void forget(Tombstone t) {
        bySessionId.remove(t.sessionId, t);
        resumableByIdentity.remove(identity(t), t);
    }

    /** Forgets every tombstone older than the retention. */
    void prune(long nowNanos) {
        for (Iterator<Tombstone> it = bySessionId.values().iterator(); it.hasNext(); ) {
            Tombstone t = it.next();
            if (nowNanos - t.createdNanos <= retentionNanos) {
                break;
            }
            it.remove();
            resumableByIdentity.remove(identity(t), t);
        }
    }

    int size() {
        return bySessionId.size();
    }

    private static Tombstone.Identity identity(Tombstone t) {
        return new Tombstone.Identity(t.key, t.uid);
    }
}
