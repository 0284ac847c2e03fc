package io.roomlink.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Tombstones}: what a late RESUME is told, and for how long. */
class TombstonesTest {
    private static final long RETENTION = 1_000;
    private final Room room = new Room(new RoomKey("app", "room"), 1);

    private Session session(long id, long uid) {
        return new Session(id, new byte[16], room, uid, id);
    }

    @Test
    void anExpiredSessionIsResumableUntilItsRetentionRunsOut() {
        Tombstones t = new Tombstones(RETENTION, 10);
        t.remember(session(1, 7), 0, null, 0);
        assertTrue(t.get(1).resumable());
        t.prune(RETENTION);
        assertTrue(t.contains(1), "kept for exactly the retention");
        t.prune(RETENTION + 1);
        assertFalse(t.contains(1));
        assertNull(t.get(1));
    }

    @Test
    void pruningStopsAtTheFirstYoungTombstone() {
        Tombstones t = new Tombstones(RETENTION, 10);
        t.remember(session(1, 7), 0, null, 0);
        t.remember(session(2, 8), ErrorCodes.SERVER_KICKED, "kicked", 500);
        t.prune(RETENTION + 100);
        assertFalse(t.contains(1));
        assertTrue(t.contains(2));
        assertEquals(1, t.size());
    }

    @Test
    void aSessionTheServerEndedKeepsItsEnd() {
        Tombstones t = new Tombstones(RETENTION, 10);
        t.remember(session(1, 7), ErrorCodes.CHANNEL_CLOSED, "closed", 0);
        Tombstone stone = t.get(1);
        assertFalse(stone.resumable());
        assertEquals(ErrorCodes.CHANNEL_CLOSED, stone.endCode);
        assertEquals("closed", stone.endMessage);
    }

    @Test
    void aNewerLoginSupersedesTheResumableTombstoneOfItsUid() {
        Tombstones t = new Tombstones(RETENTION, 10);
        t.remember(session(1, 7), 0, null, 0);
        t.remember(session(2, 8), 0, null, 0);
        t.supersede(room.key, 7);
        assertEquals(ErrorCodes.SAME_UID_LOGIN, t.get(1).endCode);
        assertTrue(t.get(2).resumable(), "another uid is not affected");
    }

    @Test
    void aLaterExpiryOfTheSameUidSupersedesTheEarlierOne() {
        Tombstones t = new Tombstones(RETENTION, 10);
        t.remember(session(1, 7), 0, null, 0);
        t.remember(session(2, 7), 0, null, 10);
        assertFalse(t.get(1).resumable());
        assertTrue(t.get(2).resumable());
    }

    @Test
    void aForgottenTombstoneIsNoLongerSuperseded() {
        Tombstones t = new Tombstones(RETENTION, 10);
        t.remember(session(1, 7), 0, null, 0);
        Tombstone first = t.get(1);
        t.forget(first);
        assertFalse(t.contains(1));
        t.remember(session(2, 7), 0, null, 10);
        assertTrue(first.resumable(), "forgotten: its identity no longer points at it");
        assertTrue(t.get(2).resumable());
    }

    @Test
    void theOldestIsForgottenBeyondCapacity() {
        Tombstones t = new Tombstones(RETENTION, 2);
        t.remember(session(1, 7), 0, null, 0);
        t.remember(session(2, 8), 0, null, 1);
        t.remember(session(3, 9), 0, null, 2);
        assertEquals(2, t.size());
        assertFalse(t.contains(1));
        t.supersede(room.key, 7); // the forgotten one's identity is gone too: nothing to mark
        assertTrue(t.get(2).resumable());
        assertTrue(t.get(3).resumable());
    }

    @Test
    void noRetentionRemembersNothing() {
        Tombstones t = new Tombstones(0, 10);
        t.remember(session(1, 7), 0, null, 0);
        assertEquals(0, t.size());
        assertNull(t.get(1));
    }

    @Test
    void capacityMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Tombstones(RETENTION, 0));
        assertTrue(e.getMessage().contains("0"), e.getMessage());
    }
}
