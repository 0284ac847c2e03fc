package io.roomlink.server;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Builds join tokens (docs/PROTOCOL.md, "Tokens"):
 * <pre>
 * token = hex16(expiresAtEpochSeconds) + "." + hex(HMAC-SHA256(secret, msg))
 * msg   = appKey + "\n" + channel + "\n" + uid (decimal) + "\n" + expiresAtEpochSeconds (decimal)
 * </pre>
 * The HMAC key is the UTF-8 encoding of {@code secret}; hex is lowercase; {@code uid} is written
 * as an unsigned decimal (it is a u64 on the wire).
 *
 * <p>An {@code appKey} containing {@code '\n'} is refused: {@code msg} would then not say where the
 * app key ends, and a token for ({@code "a"}, {@code "b\nc"}) would also be valid for
 * ({@code "a\nb"}, {@code "c"}). {@link TokenVerifier} rejects such app keys for the same reason.
 * (uid and expiry are decimal, so the channel's end is unambiguous.)
 */
public final class TokenBuilder {
    static final String HMAC = "HmacSHA256";
    static final int MAC_LEN = 32;
    /** Length of a well-formed token: 16 hex digits, '.', 64 hex digits. */
    static final int TOKEN_LEN = 16 + 1 + 2 * MAC_LEN;

    private TokenBuilder() {
    }

    /**
     * @param secret      the server's token secret (non-empty)
     * @param appKey      the app key the token is valid for
     * @param channelName the channel the token is valid for
     * @param uid         the user id (u64 bits)
     * @param expiresAt   the instant after which the server rejects the token (whole seconds; the
     *                    fraction is dropped); must not be before the epoch
     */
    public static String build(String secret, String appKey, String channelName, long uid, Instant expiresAt) {
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(appKey, "appKey");
        Objects.requireNonNull(channelName, "channelName");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (secret.isEmpty()) {
            throw new IllegalArgumentException("secret must not be empty");
        }
        if (appKey.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("appKey must not contain a newline");
        }
        long expires = expiresAt.getEpochSecond();
        if (expires < 0) {
            throw new IllegalArgumentException("expiresAt must not be before the epoch: " + expiresAt);
        }
        byte[] mac = mac(newMac(secret), appKey, channelName, uid, expires);
        return HexFormat.of().toHexDigits(expires) + "." + HexFormat.of().formatHex(mac);
    }

    static Mac newMac(String secret) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), HMAC));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    static byte[] mac(Mac mac, String appKey, String channel, long uid, long expiresEpochSeconds) {
        String msg = appKey + "\n" + channel + "\n" + Long.toUnsignedString(uid) + "\n"
                + Long.toUnsignedString(expiresEpochSeconds);
        return mac.doFinal(msg.getBytes(StandardCharsets.UTF_8));
    }
}
