package io.roomlink.server;

import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * The credential rules a {@link RoomRegistry} applies to sessions (README, "Credentials"): the
 * token verifier with its lifetime cap, the same-uid policy, and whether a session lives only as
 * long as its token (then it is warned {@link #warningLeadMillis} before the token expires and
 * may renew it). Immutable, shared by all shards.
 */
final class CredentialPolicy {
    final TokenVerifier verifier;
    final SameUidPolicy sameUidPolicy;
    final boolean enforceTokenExpiry;
    final long warningLeadMillis;

    CredentialPolicy(TokenVerifier verifier, SameUidPolicy sameUidPolicy, boolean enforceTokenExpiry,
                     Duration warningLead) {
        this.verifier = verifier;
        this.sameUidPolicy = sameUidPolicy;
        this.enforceTokenExpiry = enforceTokenExpiry;
        this.warningLeadMillis = warningLead.toMillis();
    }

    /**
     * The expiry (epoch seconds) a session admitted with {@code token} must end at, or 0 if none is
     * enforced: expiry is off, or the server is in debug mode (tokens there carry nothing verified).
     */
    long sessionExpiry(String token) {
        if (!enforceTokenExpiry || verifier.debugMode()) {
            return 0;
        }
        OptionalLong e = TokenVerifier.expiresAt(token);
        return e.isPresent() ? e.getAsLong() : 0;
    }

    /** Milliseconds since the epoch, the clock token expiries are judged by. */
    static long nowMillis() {
        return Instant.now().toEpochMilli();
    }
}
