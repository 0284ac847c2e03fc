package io.roomlink.server;

import javax.crypto.Mac;
import java.security.MessageDigest;
import java.time.Instant;

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
        EXPIRED("token expired");

        private final String message;

        Result(String message) {
            this.message = message;
        }

        public String message() {
            return message;
        }
    }

    private final String secret;
    private final ThreadLocal<Mac> macs;

    /** @param secret the token secret, or {@code null} for debug mode (every token accepted) */
    public TokenVerifier(String secret) {
        if (secret != null && secret.isEmpty()) {
            throw new IllegalArgumentException("token secret must not be empty (use null for debug mode)");
        }
        this.secret = secret;
        this.macs = secret == null ? null : ThreadLocal.withInitial(() -> TokenBuilder.newMac(secret));
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
        if (Long.compareUnsigned(now.getEpochSecond(), expires) >= 0) { // expiry is a u64
            return Result.EXPIRED;
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
