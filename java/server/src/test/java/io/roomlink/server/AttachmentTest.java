package io.roomlink.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Attachment} keeps {@link Session#conn} and {@link SignalHandler#session} in step, whatever the order of calls. */
class AttachmentTest {
    private final Room room = new Room(new RoomKey("app", "room"), 1);
    private final Session s = new Session(1, new byte[16], room, 7, 100);
    private final SignalHandler first = connection();
    private final SignalHandler second = connection();

    private static SignalHandler connection() {
        return new SignalHandler(null, null, null, 0, null, 0);
    }

    private static void assertLinked(Session session, SignalHandler conn) {
        assertSame(conn, session.conn, "the session's side");
        assertSame(session, conn.session, "the connection's side");
    }

    /** Both sides are unlinked, and detaching either again does nothing. */
    private void assertNothingLeftToDetach() {
        assertNull(s.conn);
        assertNull(first.session);
        assertNull(Attachment.detach(s), "again: nothing left to detach");
        assertNull(Attachment.detach(first), "again: nothing left to detach");
    }

    @Test
    void attachLinksBothSides() {
        assertNull(Attachment.attach(s, first));
        assertLinked(s, first);
    }

    @Test
    void attachingTheSameConnectionAgainReplacesNothing() {
        Attachment.attach(s, first);
        assertNull(Attachment.attach(s, first));
        assertLinked(s, first);
    }

    @Test
    void attachingANewConnectionUnlinksAndReturnsTheOldOne() {
        Attachment.attach(s, first);
        assertSame(first, Attachment.attach(s, second));
        assertLinked(s, second);
        assertNull(first.session, "the replaced connection no longer speaks for the session");
    }

    @Test
    void aConnectionCannotSpeakForTwoSessions() {
        Session other = new Session(2, new byte[16], room, 8, 200);
        Attachment.attach(s, first);
        assertThrows(IllegalStateException.class, () -> Attachment.attach(other, first));
        assertLinked(s, first);
        assertNull(other.conn, "nothing changed");
    }

    @Test
    void detachingTheSessionUnlinksBothSidesOnce() {
        Attachment.attach(s, first);
        assertSame(first, Attachment.detach(s));
        assertNothingLeftToDetach();
    }

    @Test
    void detachingTheConnectionUnlinksBothSidesOnce() {
        Attachment.attach(s, first);
        assertSame(s, Attachment.detach(first));
        assertNothingLeftToDetach();
    }

    @Test
    void detachingAReplacedConnectionLeavesTheNewLinkAlone() {
        Attachment.attach(s, first);
        Attachment.attach(s, second);
        assertNull(Attachment.detach(first), "the replaced connection has no session to give back");
        assertLinked(s, second);
    }

    @Test
    void aStaleBackLinkDoesNotDetachTheNewConnection() {
        Attachment.attach(s, first);
        Attachment.attach(s, second);
        first.session = s; // as if the replaced side had been left behind: detach must still not cut the live link
        assertNull(Attachment.detach(first));
        assertNull(first.session);
        assertLinked(s, second);
    }

    @Test
    void aDetachedSessionCanBeAttachedAgain() {
        Attachment.attach(s, first);
        Attachment.detach(first);
        assertNull(Attachment.attach(s, second));
        assertLinked(s, second);
    }
}
