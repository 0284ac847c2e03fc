package io.roomlink.server;

/**
 * When a session's token is due for a warning or has expired (docs/PROTOCOL.md, "Token renewal").
 * Expiries are whole epoch seconds (u64); the sweep judges them ten times a second, so a token
 * ends its session within about 100 ms of its expiry.
 */
final class TokenExpiry {
    private TokenExpiry() {
    }

    /** Needs attention at {@code nowMillis}: expired, or inside the warning lead and not yet warned. */
    static boolean due(Session s, long nowMillis, long leadMillis) {
        return expired(s, nowMillis) || (!s.expiryWarned && reached(s.tokenExpiresAt, nowMillis + leadMillis));
    }

    static boolean expired(Session s, long nowMillis) {
        return expired(s.tokenExpiresAt, nowMillis);
    }

    /** An expiry of 0 means none is enforced. */
    static boolean expired(long expiresAtSeconds, long nowMillis) {
        return expiresAtSeconds != 0 && reached(expiresAtSeconds, nowMillis);
    }

    /** {@code atMillis} is at or past {@code expiresAtSeconds} (unsigned: 2^64-1 is "never"). */
    private static boolean reached(long expiresAtSeconds, long atMillis) {
        long atSeconds = Math.floorDiv(atMillis, 1000);
        return Long.compareUnsigned(atSeconds, expiresAtSeconds) >= 0;
    }
}
