package io.roomlink.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MediaBindings}: which session a mediaKey names, across JOIN, RESUME with a new key, BIND and removal. */
class MediaBindingsTest {
    private final Room room = new Room(new RoomKey("app", "room"), 1);
    private final MediaBindings bindings = new MediaBindings();

    private Session joined(long id, long key) {
        Session s = new Session(id, new byte[16], room, id, key);
        bindings.register(s, key, MediaClient.secret(key));
        return s;
    }

    @Test
    void theSameKeysRegisteredAgainNeverRepeatAServerCounter() {
        // A migration's RESUME names the current key and secret; answered with a fresh session, the
        // same keys get a second state, whose nonces must not repeat the first one's.
        Session first = joined(1, 100);
        MediaKeyState a = bindings.lookup(100);
        long last = 0;
        for (int i = 0; i < 1000; i++) {
            last = a.nextCounter();
        }
        bindings.remove(first);
        Session fresh = joined(2, 100);
        MediaKeyState b = bindings.lookup(100);
        assertSame(fresh, b.session);
        assertTrue(Long.compareUnsigned(b.nextCounter(), last) > 0, "the fresh state's first counter is past the old one's last");
    }

    @Test
    void aJoinRegistersItsKeyUnbound() {
        Session s = joined(1, 100);
        assertSame(s, bindings.session(100));
        assertFalse(s.mediaBound);
        assertTrue(bindings.bound(s, 100));
        assertTrue(s.mediaBound);
    }

    @Test
    void aNewKeyBeforeAnyBindReplacesTheOld() {
        Session s = joined(1, 100);
        bindings.register(s, 200, MediaClient.secret(200));
        assertNull(bindings.session(100), "never bound: nothing to keep");
        assertSame(s, bindings.session(200));
        assertEquals(1, bindings.size());
        assertFalse(bindings.bound(s, 100), "a late BIND of the old key counts for nothing");
        assertFalse(s.mediaBound);
    }

    @Test
    void theBoundKeyStaysUntilTheNewKeyIsBound() {
        Session s = joined(1, 100);
        bindings.bound(s, 100);
        bindings.register(s, 200, MediaClient.secret(200));
        assertSame(s, bindings.session(100), "the old binding keeps the media side alive meanwhile");
        assertSame(s, bindings.session(200));
        assertFalse(s.mediaBound);
        assertTrue(bindings.bound(s, 200));
        assertNull(bindings.session(100), "retired by the first BIND of the new key");
        assertSame(s, bindings.session(200));
    }

    @Test
    void onlyTheLastBoundKeyIsKeptAcrossTwoResumes() {
        Session s = joined(1, 100);
        bindings.bound(s, 100);
        bindings.register(s, 200, MediaClient.secret(200)); // not bound
        bindings.register(s, 300, MediaClient.secret(300));
        assertSame(s, bindings.session(100), "still the last bound key");
        assertNull(bindings.session(200));
        assertSame(s, bindings.session(300));
    }

    @Test
    void goingBackToThePreviousKeyMakesItCurrentAgain() {
        Session s = joined(1, 100);
        bindings.bound(s, 100);
        bindings.register(s, 200, MediaClient.secret(200));
        bindings.register(s, 100, MediaClient.secret(100));
        assertFalse(s.hasPreviousKey);
        assertNull(bindings.session(200));
        assertSame(s, bindings.session(100));
        bindings.remove(s);
        assertEquals(0, bindings.size());
    }

    @Test
    void aHeldKeyStaysWithItsHolder() {
        Session older = joined(1, 100);
        Session newer = new Session(2, new byte[16], room, 2, 100);
        assertFalse(bindings.register(newer, 100, new byte[16]), "a conflict");
        assertSame(older, bindings.session(100));
        bindings.remove(newer);
        assertSame(older, bindings.session(100), "removing the newcomer leaves the holder's binding alone");
        bindings.remove(older);
        assertEquals(0, bindings.size());
    }

    @Test
    void removalTakesTheCurrentAndThePreviousKey() {
        Session s = joined(1, 100);
        bindings.bound(s, 100);
        bindings.register(s, 200, MediaClient.secret(200));
        bindings.remove(s);
        assertNull(bindings.session(100));
        assertNull(bindings.session(200));
        assertEquals(0, bindings.size());
        bindings.remove(s); // twice: harmless
        assertEquals(0, bindings.size());
    }
}
