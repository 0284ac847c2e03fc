package io.roomlink.server;

import javax.crypto.Mac;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;

/**
 * Verifies join tokens built by {@link TokenBuilder}. Thread-safe (one {@link Mac} per thread).
 * A verifier without a secret is in debug mode and accepts every token.
 */
public final class TokenVerifier {
    /** Outcome of {@link #verify}. {@link #message()} is the text sent in {@code JOIN_ERR}. */
    public enum Result {
        OK("ok"),
        MALFORMED("malformed token"),
        BAD_SIGNATURE("invalid token"),
        EXPIRED("token expired"),
        /** The token's expiry lies beyond now + the server's maximum token lifetime. */
        LIFETIME_TOO_LONG("token lifetime beyond the server's cap");

        private final String message;

        Result(String message) {
            this.message = message;
        }

        public String message() {
            return message;
        }
    }

    /** Default of {@link #TokenVerifier(String, Duration)}'s cap (and of RoomServer.Builder#maxTokenLifetime). */
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofHours(24);

    private final String secret;
    private final ThreadLocal<Mac> macs;
    private final long maxLifetimeSeconds;

    /** @param secret the token secret, or {@code null} for debug mode (every token accepted); 24 h cap */
    public TokenVerifier(String secret) {
        this(secret, DEFAULT_MAX_LIFETIME);
    }

    /**
     * @param secret      the token secret, or {@code null} for debug mode (every token accepted)
     * @param maxLifetime a token whose expiry lies further than this beyond now is refused
     *                    ({@link Result#LIFETIME_TOO_LONG}), so a leaked token cannot be valid for ever
     */
    public TokenVerifier(String secret, Duration maxLifetime) {
        if (secret != null && secret.isEmpty()) {
            throw new IllegalArgumentException("token secret must not be empty (use null for debug mode)");
        }
        if (maxLifetime == null || maxLifetime.isNegative() || maxLifetime.isZero()) {
            throw new IllegalArgumentException("maxLifetime must be positive, got " + maxLifetime);
        }
        this.secret = secret;
        this.macs = secret == null ? null : ThreadLocal.withInitial(() -> TokenBuilder.newMac(secret));
        this.maxLifetimeSeconds = maxLifetime.getSeconds();
    }

    /**
     * The expiry (epoch seconds, a u64 in a long's bits) a well-formed token names, without checking
     * its signature; empty if it is not well-formed.
     */
    public static OptionalLong expiresAt(String token) {
        if (token == null || token.length() != TokenBuilder.TOKEN_LEN || token.charAt(16) != '.') {
            return OptionalLong.empty();
        }
        long expires = 0;
        for (int i = 0; i < 16; i++) {
            int d = hexDigit(token.charAt(i));
            if (d < 0) {
                return OptionalLong.empty();
            }
            expires = (expires << 4) | d;
        }
        return OptionalLong.of(expires);
    }

    /** True if this verifier accepts any token. */
    public boolean debugMode() {
        return secret == null;
    }

    /**
     * Checks {@code token} for ({@code appKey}, {@code channel}, {@code uid}) at {@code now}.
     * A token is valid while {@code now} (whole epoch seconds) is strictly before its expiry.
     */
    public Result verify(String appKey, String channel, long uid, String token, Instant now) {
        if (secret == null) {
            return Result.OK;
        }
        if (token == null || token.length() != TokenBuilder.TOKEN_LEN || token.charAt(16) != '.'
                || appKey.indexOf('\n') >= 0) { // see TokenBuilder: the MAC input would be ambiguous
            return Result.MALFORMED;
        }
        long expires = 0;
        for (int i = 0; i < 16; i++) {
            int d = hexDigit(token.charAt(i));
            if (d < 0) {
                return Result.MALFORMED;
            }
            expires = (expires << 4) | d;
        }
        byte[] presented = new byte[TokenBuilder.MAC_LEN];
        for (int i = 0; i < presented.length; i++) {
            int hi = hexDigit(token.charAt(17 + 2 * i));
            int lo = hexDigit(token.charAt(18 + 2 * i));
            if (hi < 0 || lo < 0) {
                return Result.MALFORMED;
            }
            presented[i] = (byte) ((hi << 4) | lo);
        }
        byte[] expected = TokenBuilder.mac(macs.get(), appKey, channel, uid, expires);
        if (!MessageDigest.isEqual(expected, presented)) {
            return Result.BAD_SIGNATURE;
        }
        // Signature first, so that an attacker learns nothing about expiry from forged tokens.
        long nowSeconds = now.getEpochSecond();
        if (Long.compareUnsigned(nowSeconds, expires) >= 0) { // expiry is a u64
            return Result.EXPIRED;
        }
        if (Long.compareUnsigned(expires - nowSeconds, maxLifetimeSeconds) > 0) {
            return Result.LIFETIME_TOO_LONG;
        }
        return Result.OK;
    }

    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
