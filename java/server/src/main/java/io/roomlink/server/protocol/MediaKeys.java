package io.roomlink.server.protocol;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The two AES-128 keys of one {@code mediaKey}: HKDF-SHA256 (RFC 5869) with
 * {@code salt = mediaKey} (8 bytes, big-endian), {@code IKM = mediaSecret} and
 * {@code info = "roomlink media c2s"} / {@code "roomlink media s2c"}. One key per direction, so
 * the client's and the server's counters may both start at 1 without ever sharing a nonce under
 * one key. Immutable and thread-safe; {@code toString()} never prints key material.
 */
public final class MediaKeys {
    /** Length of {@code mediaSecret} in JOIN/RESUME and of each derived key. */
    public static final int SECRET_LEN = 16;

    private static final byte[] INFO_C2S = "roomlink media c2s".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] INFO_S2C = "roomlink media s2c".getBytes(StandardCharsets.US_ASCII);

    private final long mediaKey;
    private final SecretKey c2s;
    private final SecretKey s2c;

    private MediaKeys(long mediaKey, SecretKey c2s, SecretKey s2c) {
        this.mediaKey = mediaKey;
        this.c2s = c2s;
        this.s2c = s2c;
    }

    /**
     * Derives both keys.
     *
     * @throws IllegalArgumentException if {@code mediaSecret} is not {@value #SECRET_LEN} bytes
     */
    public static MediaKeys derive(long mediaKey, byte[] mediaSecret) {
        Objects.requireNonNull(mediaSecret, "mediaSecret");
        if (mediaSecret.length != SECRET_LEN) {
            throw new IllegalArgumentException("mediaSecret must be " + SECRET_LEN + " bytes, got "
                    + mediaSecret.length);
        }
        byte[] salt = new byte[8];
        for (int i = 0; i < 8; i++) {
            salt[i] = (byte) (mediaKey >>> (56 - 8 * i));
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(salt, "HmacSHA256"));
            byte[] prk = mac.doFinal(mediaSecret); // HKDF-Extract
            try {
                return new MediaKeys(mediaKey, expand(mac, prk, INFO_C2S), expand(mac, prk, INFO_S2C));
            } finally {
                Arrays.fill(prk, (byte) 0);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** HKDF-Expand for L = 16 <= HashLen: one block, T(1) = HMAC(PRK, info ‖ 0x01), truncated. */
    private static SecretKey expand(Mac mac, byte[] prk, byte[] info) throws GeneralSecurityException {
        mac.init(new SecretKeySpec(prk, "HmacSHA256"));
        mac.update(info);
        mac.update((byte) 1);
        byte[] t = mac.doFinal();
        try {
            return new SecretKeySpec(t, 0, SECRET_LEN, "AES");
        } finally {
            Arrays.fill(t, (byte) 0);
        }
    }

    public long mediaKey() {
        return mediaKey;
    }

    /** Seals BIND and PING (client → server). */
    public SecretKey clientToServer() {
        return c2s;
    }

    /** Seals BIND_ACK and PONG (server → client). */
    public SecretKey serverToClient() {
        return s2c;
    }

    /** A copy of the c2s key bytes (for the golden vectors). */
    public byte[] clientToServerBytes() {
        return c2s.getEncoded();
    }

    /** A copy of the s2c key bytes (for the golden vectors). */
    public byte[] serverToClientBytes() {
        return s2c.getEncoded();
    }

    @Override
    public String toString() {
        return "MediaKeys[mediaKey=" + Long.toHexString(mediaKey) + ", keys=<redacted>]";
    }
}
