package io.roomlink.server;

import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenTest {
    private static final String SECRET = "s3cret";
    private static final Instant NOW = Instant.ofEpochSecond(1_700_000_000L);
    private static final Instant LATER = NOW.plusSeconds(3600);
    private final TokenVerifier verifier = new TokenVerifier(SECRET);

    @Test
    void formatMatchesTheSpecIndependently() throws Exception {
        String token = TokenBuilder.build(SECRET, "demo", "room-1", 42, Instant.ofEpochSecond(1_700_003_600L));
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = "000000006553ff10" + "." + HexFormat.of().formatHex(
                mac.doFinal("demo\nroom-1\n42\n1700003600".getBytes(StandardCharsets.UTF_8)));
        assertEquals(expected, token);
        assertEquals(81, token.length());
    }

    @Test
    void validTokenIsAccepted() {
        String t = TokenBuilder.build(SECRET, "demo", "room-1", 42, LATER);
        assertEquals(TokenVerifier.Result.OK, verifier.verify("demo", "room-1", 42, t, NOW));
        assertEquals(TokenVerifier.Result.OK, verifier.verify("demo", "room-1", 42, t.toUpperCase(), NOW));
    }

    @Test
    void unsignedUidAndUnicodeChannel() {
        long uid = -1L; // u64 max
        String t = TokenBuilder.build(SECRET, "k", "房间-1", uid, LATER);
        assertEquals(TokenVerifier.Result.OK, verifier.verify("k", "房间-1", uid, t, NOW));
        assertEquals(TokenVerifier.Result.BAD_SIGNATURE, verifier.verify("k", "房间-1", Long.MAX_VALUE, t, NOW));
    }

    @Test
    void wrongSecretIsRejected() {
        String t = TokenBuilder.build("other", "demo", "room-1", 42, LATER);
        assertEquals(TokenVerifier.Result.BAD_SIGNATURE, verifier.verify("demo", "room-1", 42, t, NOW));
    }

    @Test
    void expiredTokenIsRejected() {
        String t = TokenBuilder.build(SECRET, "demo", "room-1", 42, NOW);
        assertEquals(TokenVerifier.Result.EXPIRED, verifier.verify("demo", "room-1", 42, t, NOW));
        assertEquals(TokenVerifier.Result.EXPIRED, verifier.verify("demo", "room-1", 42, t, NOW.plusSeconds(1)));
        assertEquals(TokenVerifier.Result.OK, verifier.verify("demo", "room-1", 42, t, NOW.minusSeconds(1)));
    }

    @Test
    void tamperedFieldsAreRejected() {
        String t = TokenBuilder.build(SECRET, "demo", "room-1", 42, LATER);
        assertEquals(TokenVerifier.Result.BAD_SIGNATURE, verifier.verify("demo2", "room-1", 42, t, NOW));
        assertEquals(TokenVerifier.Result.BAD_SIGNATURE, verifier.verify("demo", "room-2", 42, t, NOW));
        assertEquals(TokenVerifier.Result.BAD_SIGNATURE, verifier.verify("demo", "room-1", 43, t, NOW));
        // ("a", "b\nc") and ("a\nb", "c") have the same MAC input: app keys with '\n' are refused
        String t2 = TokenBuilder.build(SECRET, "a", "b\nc", 1, LATER);
        assertEquals(TokenVerifier.Result.OK, verifier.verify("a", "b\nc", 1, t2, NOW));
        assertEquals(TokenVerifier.Result.MALFORMED, verifier.verify("a\nb", "c", 1, t2, NOW));
        assertThrows(IllegalArgumentException.class, () -> TokenBuilder.build(SECRET, "a\nb", "c", 1, LATER));
        // extend the expiry without re-signing
        String extended = HexFormat.of().toHexDigits(LATER.getEpochSecond() + 86400) + t.substring(16);
        assertEquals(TokenVerifier.Result.BAD_SIGNATURE, verifier.verify("demo", "room-1", 42, extended, NOW));
        // flip one MAC digit
        char last = t.charAt(t.length() - 1);
        String flipped = t.substring(0, t.length() - 1) + (last == '0' ? '1' : '0');
        assertEquals(TokenVerifier.Result.BAD_SIGNATURE, verifier.verify("demo", "room-1", 42, flipped, NOW));
    }

    @Test
    void malformedTokensAreRejected() {
        String t = TokenBuilder.build(SECRET, "demo", "room-1", 42, LATER);
        for (String bad : new String[] {"", "garbage", t.substring(1), t + "0", t.replace('.', ':'),
            "g" + t.substring(1), t.substring(0, 20) + "z" + t.substring(21), " " + t.substring(1),
            "0".repeat(81), t.substring(0, 17) + "é".repeat(64)}) {
            TokenVerifier.Result r = verifier.verify("demo", "room-1", 42, bad, NOW);
            assertTrue(r == TokenVerifier.Result.MALFORMED || r == TokenVerifier.Result.BAD_SIGNATURE,
                    "'" + bad + "' gave " + r);
        }
        assertEquals(TokenVerifier.Result.MALFORMED, verifier.verify("demo", "room-1", 42, "", NOW));
        assertEquals(TokenVerifier.Result.MALFORMED, verifier.verify("demo", "room-1", 42, null, NOW));
    }

    @Test
    void debugModeAcceptsAnything() {
        TokenVerifier debug = new TokenVerifier(null);
        assertTrue(debug.debugMode());
        assertEquals(TokenVerifier.Result.OK, debug.verify("k", "c", 1, "", NOW));
        assertEquals(TokenVerifier.Result.OK, debug.verify("k", "c", 1, "garbage", NOW));
        assertEquals(TokenVerifier.Result.OK,
                debug.verify("k", "c", 1, TokenBuilder.build("x", "k", "c", 1, NOW.minusSeconds(10)), NOW));
    }

    @Test
    void builderRejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> TokenBuilder.build("", "k", "c", 1, LATER));
        assertThrows(IllegalArgumentException.class,
                () -> TokenBuilder.build(SECRET, "k", "c", 1, Instant.ofEpochSecond(-1)));
        assertThrows(NullPointerException.class, () -> TokenBuilder.build(null, "k", "c", 1, LATER));
        assertThrows(IllegalArgumentException.class, () -> new TokenVerifier(""));
    }

    @Test
    void expiryBeyondTheLifetimeCapIsRefused() throws Exception {
        TokenVerifier capped = new TokenVerifier(SECRET, java.time.Duration.ofHours(1));
        String inCap = TokenBuilder.build(SECRET, "demo", "r", 1, NOW.plusSeconds(3600));
        assertEquals(TokenVerifier.Result.OK, capped.verify("demo", "r", 1, inCap, NOW));
        String beyond = TokenBuilder.build(SECRET, "demo", "r", 1, NOW.plusSeconds(3601));
        assertEquals(TokenVerifier.Result.LIFETIME_TOO_LONG, capped.verify("demo", "r", 1, beyond, NOW));
        String forever = CredentialsTest.tokenExpiringAt(SECRET, "demo", "r", 1, -1L); // 2^64-1
        assertEquals(TokenVerifier.Result.LIFETIME_TOO_LONG, verifier.verify("demo", "r", 1, forever, NOW));
        assertEquals(-1L, TokenVerifier.expiresAt(forever).getAsLong());
        assertThrows(IllegalArgumentException.class, () -> new TokenVerifier(SECRET, java.time.Duration.ZERO));
    }
}
