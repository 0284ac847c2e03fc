package io.roomlink.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PendingCallbacksTest {
    private final List<String> ran = new ArrayList<>();

    private Runnable named(String name) {
        return () -> ran.add(name);
    }

    private List<String> drain(PendingCallbacks pending) {
        for (Runnable r = pending.poll(); r != null; r = pending.poll()) {
            r.run();
        }
        return ran;
    }

    @Test
    void aListenerThatKeepsUpSeesEveryChange() {
        PendingCallbacks pending = new PendingCallbacks();
        pending.add(named("CONNECTED"));
        pending.addPresence(1, true, named("join 1"));
        pending.addPresence(1, false, named("leave 1")); // a short visit: one waits, nothing is lost
        assertEquals(List.of("CONNECTED", "join 1", "leave 1"), drain(pending));
        assertEquals(0, pending.cancelledPairs());
    }

    @Test
    void behindTheListenerStatesAreKeptAndPresenceIsCoalesced() {
        PendingCallbacks pending = new PendingCallbacks(0);
        pending.add(named("CONNECTED"));
        pending.addPresence(1, true, named("join 1"));
        pending.addPresence(2, true, named("join 2"));
        pending.add(named("RECONNECTING"));
        pending.addPresence(1, false, named("leave 1")); // cancels the waiting join 1
        pending.add(named("CONNECTED again"));
        pending.addPresence(1, true, named("join 1 again"));
        assertEquals(List.of("CONNECTED", "join 2", "RECONNECTING", "CONNECTED again", "join 1 again"), drain(pending));
        assertEquals(1, pending.cancelledPairs());
    }

    @Test
    void coalescingStartsAtTheThreshold() {
        PendingCallbacks pending = new PendingCallbacks(3);
        pending.add(named("CONNECTED"));
        pending.addPresence(1, true, named("join 1"));
        pending.addPresence(1, false, named("leave 1")); // 2 waiting: kept
        pending.addPresence(1, true, named("join 1 again")); // 3 waiting: cancels leave 1
        pending.addPresence(1, false, named("leave 1 again")); // 2 waiting: kept
        assertEquals(List.of("CONNECTED", "join 1", "leave 1 again"), drain(pending));
    }

    @Test
    void aChangeAlreadyDeliveredIsNotCancelled() {
        PendingCallbacks pending = new PendingCallbacks(0);
        pending.addPresence(5, true, named("join 5"));
        pending.poll().run(); // the listener has been told
        pending.addPresence(5, false, named("leave 5"));
        assertEquals(List.of("join 5", "leave 5"), drain(pending));
    }

    @Test
    void endlessChurnOfDistinctUidsBehindASlowListenerHoldsNoMoreThanTheThreshold() {
        PendingCallbacks pending = new PendingCallbacks();
        for (long uid = 0; uid < 1_000_000; uid++) {
            pending.addPresence(uid, true, named("join"));
            pending.addPresence(uid, false, named("leave"));
        }
        assertEquals(PendingCallbacks.EXACT_BELOW, pending.size());
        for (int i = 0; i < PendingCallbacks.EXACT_BELOW; i++) {
            pending.poll();
        }
        assertNull(pending.poll());
    }
}
