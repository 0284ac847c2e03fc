package io.roomlink.server;

/**
 * The one place that links a {@link Session} and the {@link SignalHandler} speaking for it, and
 * unlinks them: {@link Session#conn} and {@link SignalHandler#session} are written here and
 * nowhere else, so the two sides never disagree. Room executor only.
 *
 * <p>Every method is safe to call again, and on a connection that was replaced meanwhile: a
 * connection whose session has moved on to a newer connection only loses its own side.
 */
final class Attachment {
    private Attachment() {
    }

    /**
     * Makes {@code conn} the connection of {@code s}.
     *
     * @return the connection that spoke for {@code s} until now and no longer does (unlinked; the
     *         caller closes it), or {@code null}
     */
    static SignalHandler attach(Session s, SignalHandler conn) {
        if (conn.session != null && conn.session != s) {
            // A connection speaks for one session, chosen by its first frame: this is a bug.
            throw new IllegalStateException(conn + " already speaks for " + conn.session + ", not for " + s);
        }
        SignalHandler replaced = s.conn == conn ? null : detach(s);
        s.conn = conn;
        conn.session = s;
        return replaced;
    }

    /**
     * Unlinks {@code s} from its connection (the session goes to grace, or ends).
     *
     * @return the connection that was attached (the caller closes it), or {@code null}
     */
    static SignalHandler detach(Session s) {
        SignalHandler conn = s.conn;
        if (conn != null) {
            unlink(s, conn);
        }
        return conn;
    }

    /**
     * Unlinks {@code conn} from its session (the connection left or closed).
     *
     * @return the session {@code conn} was the current connection of, or {@code null} when it had
     *         none or had been replaced by a newer connection (whose link stays as it is)
     */
    static Session detach(SignalHandler conn) {
        Session s = conn.session;
        conn.session = null;
        if (s == null || s.conn != conn) {
            return null;
        }
        unlink(s, conn);
        return s;
    }

    private static void unlink(Session s, SignalHandler conn) {
        s.conn = null;
        if (conn.session == s) {
            conn.session = null;
        }
    }
}
