package io.roomlink.server;

/**
 * Memory of a session that no longer exists, so that a late {@code RESUME} gets a truthful answer:
 * an expired session ({@code endCode == 0}) is re-admitted as a fresh session ({@code resumed=0},
 * docs/PROTOCOL.md), a session the server ended gets the {@code SESSION_END} it may have missed.
 * Room executor only.
 */
final class Tombstone {
    final long sessionId;
    final byte[] secret;
    final RoomKey key;
    final long uid;
    final long createdNanos;
    /** The ended session's token expiry (0 = none): a re-admitted session inherits it. */
    final long tokenExpiresAt;
    /** The ended session's highest MESSAGE seq taken: a re-admitted session accepts the next one. */
    final long accepted;
    /** 0 = expired after grace (resumable as a fresh session); otherwise the SESSION_END code. */
    int endCode;
    String endMessage;

    Tombstone(Session s, int endCode, String endMessage, long nowNanos) {
        this.sessionId = s.id;
        this.secret = s.secret;
        this.key = s.room.key;
        this.uid = s.uid;
        this.endCode = endCode;
        this.endMessage = endMessage;
        this.createdNanos = nowNanos;
        this.tokenExpiresAt = s.tokenExpiresAt;
        this.accepted = s.accepted;
    }

    boolean resumable() {
        return endCode == 0;
    }

    /** Identity (room, uid) of the session, for superseding by a newer login. */
    record Identity(RoomKey key, long uid) {
    }
}
