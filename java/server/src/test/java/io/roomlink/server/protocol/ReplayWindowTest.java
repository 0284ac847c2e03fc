package io.roomlink.server.protocol;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The same cases as native/test/replay_window_test.cpp: both receivers judge counters alike. */
class ReplayWindowTest {
    @Test
    void counterZeroIsNeverFresh() {
        assertFalse(new ReplayWindow().fresh(0));
    }

    @Test
    void eachCounterIsAcceptedOnce() {
        ReplayWindow w = new ReplayWindow();
        for (long c = 1; c <= 300; c++) {
            assertTrue(w.fresh(c), "counter " + c);
            w.accept(c);
            assertFalse(w.fresh(c), "counter " + c + " again");
        }
    }

    @Test
    void reorderingWithinTheWindowIsAcceptedAndOlderIsAReplay() {
        ReplayWindow w = new ReplayWindow();
        w.accept(1000);
        assertTrue(w.fresh(1000 - 127));
        assertFalse(w.fresh(1000 - 128));
        for (long c = 999; c > 1000 - 128; c -= 3) {
            assertTrue(w.fresh(c));
            w.accept(c);
            assertFalse(w.fresh(c));
        }
        assertTrue(w.fresh(998));
    }

    @Test
    void aJumpForwardKeepsWhatIsStillInside() {
        ReplayWindow w = new ReplayWindow();
        w.accept(10);
        w.accept(12);
        w.accept(80);
        assertFalse(w.fresh(10));
        assertFalse(w.fresh(12));
        assertTrue(w.fresh(11));
        w.accept(200);
        assertFalse(w.fresh(80));
        assertTrue(w.fresh(81));
        assertFalse(w.fresh(12));
        w.accept(1_000_000);
        assertFalse(w.fresh(200));
        assertTrue(w.fresh(999_999));
    }

    @Test
    void countersAreUnsigned() {
        ReplayWindow w = new ReplayWindow();
        long top = -2L; // 2^64 - 2, as in the media_ping_high_counter vector
        assertTrue(w.fresh(top));
        w.accept(top);
        assertFalse(w.fresh(top));
        assertTrue(w.fresh(top - 5));
        assertTrue(w.fresh(-1L));
        assertFalse(w.fresh(Long.MAX_VALUE)); // far below 2^64 - 2: outside the window
    }
}
