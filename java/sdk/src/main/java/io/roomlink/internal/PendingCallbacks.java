package io.roomlink.internal;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One engine's callbacks waiting for the listener, bounded whatever the server sends.
 *
 * <p>Every callback other than presence (state changes, join/rejoin/leave results, reconnecting,
 * disconnect) is kept, in order: none is ever lost. Presence is delivered one for one while fewer
 * than {@link #EXACT_BELOW} callbacks wait. Beyond that the listener is falling behind and presence
 * is coalesced per uid: the core reports a uid's joins and leaves alternately (change-only), so
 * the opposite change of a uid whose newest change still waits cancels it (the pair is dropped:
 * the app never sees a flap it was too slow to see, and it still ends with the engine's
 * membership). What waits is then at most {@link #EXACT_BELOW} plus one entry per uid whose state
 * the app has not yet been told, which the core's cap on known peers bounds (2 x maxPeers).
 *
 * <p>Thread-safe: native loop threads add, a dispatch thread polls.
 */
final class PendingCallbacks {
    /** Queue length from which presence is coalesced: a listener this far behind is slow. */
    static final int EXACT_BELOW = 1024;

    private record PresenceChange(long uid, Runnable callback) implements Runnable {
        @Override
        public void run() {
            callback.run();
        }
    }

    /** A uid's newest waiting presence change: its key in the queue and its direction. */
    private record Newest(Object key, boolean joined) {
    }

    private final int exactBelow;
    /** Insertion-ordered; every entry has a key of its own. */
    private final LinkedHashMap<Object, Runnable> queue = new LinkedHashMap<>();
    private final HashMap<Long, Newest> newest = new HashMap<>();
    private long cancelledPairs;

    PendingCallbacks() {
        this(EXACT_BELOW);
    }

    /** For tests: coalesce from this queue length on. */
    PendingCallbacks(int exactBelow) {
        this.exactBelow = exactBelow;
    }

    synchronized void add(Runnable callback) {
        queue.put(new Object(), callback);
    }

    synchronized void addPresence(long uid, boolean joined, Runnable callback) {
        if (queue.size() >= exactBelow) {
            Newest waiting = newest.get(uid);
            if (waiting != null && waiting.joined() != joined) {
                queue.remove(waiting.key());
                newest.remove(uid);
                cancelledPairs++;
                return;
            }
        }
        Object key = new Object();
        queue.put(key, new PresenceChange(uid, callback));
        newest.put(uid, new Newest(key, joined));
    }

    /** The oldest callback, or null. */
    synchronized Runnable poll() {
        Iterator<Map.Entry<Object, Runnable>> it = queue.entrySet().iterator();
        if (!it.hasNext()) {
            return null;
        }
        Map.Entry<Object, Runnable> first = it.next();
        it.remove();
        if (first.getValue() instanceof PresenceChange change) {
            Newest n = newest.get(change.uid());
            if (n != null && n.key() == first.getKey()) {
                newest.remove(change.uid());
            }
        }
        return first.getValue();
    }

    synchronized boolean isEmpty() {
        return queue.isEmpty();
    }

    synchronized int size() {
        return queue.size();
    }

    /** Presence join/leave pairs dropped because the listener had not seen the first yet. */
    synchronized long cancelledPairs() {
        return cancelledPairs;
    }

    synchronized void clear() {
        queue.clear();
        newest.clear();
    }
}
