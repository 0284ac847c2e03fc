package io.roomlink.server;

import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Session-secret rotation, the token lifetime cap, the same-uid policy and token renewal, on the wire. */
class CredentialsTest {
    private static final String SECRET = "creds-secret";
    private final TestServers servers = new TestServers();

    @AfterEach
    void tearDown() {
        servers.close();
    }

    private static String token(String channel, long uid, Instant expires) {
        return TokenBuilder.build(SECRET, "app", channel, uid, expires);
    }

    /** A correctly signed token with any u64 expiry, which TokenBuilder refuses to build past 2^63-1. */
    static String tokenExpiringAt(String secret, String appKey, String channel, long uid, long expiresU64)
            throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String msg = appKey + "\n" + channel + "\n" + Long.toUnsignedString(uid) + "\n" + Long.toUnsignedString(expiresU64);
        return HexFormat.of().toHexDigits(expiresU64) + "."
                + HexFormat.of().formatHex(mac.doFinal(msg.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void everyResumeOkCarriesAFreshSecretAndTheOldOneIsDead() throws Exception {
        RoomServer server = servers.start(servers.builder().tokenSecret(SECRET));
        TestClient first = servers.client(server);
        Message.JoinOk ok = first.join("app", "r", 1, token("r", 1, Instant.now().plusSeconds(60)), 11);
        servers.live(server, first, 11);

        TestClient second = servers.client(server);
        Message.ResumeOk r1 = second.resume(ok.sessionId(), ok.sessionSecret(), 11);
        assertTrue(r1.resumed());
        assertFalse(Arrays.equals(ok.sessionSecret(), r1.sessionSecret()), "RESUME_OK must carry a new secret");
        second.keepAlive(servers.keepAlives(), TestServers.KEEPALIVE);

        // The sniffed (JOIN_OK) secret replayed: refused, and the live session does not notice.
        TestClient replay = servers.client(server);
        replay.send(new Message.Resume(ok.sessionId(), ok.sessionSecret(), 99, MediaClient.secret(99)));
        assertEquals(ErrorCodes.INVALID_TOKEN, replay.expect(Message.JoinErr.class).code());
        replay.expectClosed();
        second.pingPong(5);
        assertEquals(java.util.Set.of(1L), server.members("app", "r"));

        TestClient third = servers.client(server);
        Message.ResumeOk r2 = third.resume(ok.sessionId(), r1.sessionSecret(), 11);
        assertTrue(r2.resumed());
        assertFalse(Arrays.equals(r1.sessionSecret(), r2.sessionSecret()));
        TestClient replay2 = servers.client(server);
        replay2.send(new Message.Resume(ok.sessionId(), r1.sessionSecret(), 11, MediaClient.secret(11)));
        assertEquals(ErrorCodes.INVALID_TOKEN, replay2.expect(Message.JoinErr.class).code());
    }

    @Test
    void tokenValidBeyondTheCapIsRefused() throws Exception {
        RoomServer server = servers.start(servers.builder().tokenSecret(SECRET).maxTokenLifetime(Duration.ofHours(1)));
        TestClient forever = servers.client(server);
        forever.send(new Message.Join("app", "r", 1, tokenExpiringAt(SECRET, "app", "r", 1, -1L), 1, MediaClient.secret(1)));
        Message.JoinErr err = forever.expect(Message.JoinErr.class);
        assertEquals(ErrorCodes.INVALID_TOKEN, err.code());
        assertEquals("token lifetime beyond the server's cap", err.message());
        forever.expectClosed();

        TestClient tooLong = servers.client(server);
        tooLong.send(new Message.Join("app", "r", 2, token("r", 2, Instant.now().plus(Duration.ofMinutes(61))), 2, MediaClient.secret(2)));
        assertEquals(ErrorCodes.INVALID_TOKEN, tooLong.expect(Message.JoinErr.class).code());

        TestClient fine = servers.client(server);
        fine.join("app", "r", 3, token("r", 3, Instant.now().plus(Duration.ofMinutes(59))), 3);
        assertEquals(2, server.stats().tokenLifetimeRejects());
    }

    @Test
    void rejectNewcomerKeepsTheLiveSession() throws Exception {
        RoomServer server = servers.start(servers.builder().tokenSecret(SECRET)
                .sameUidPolicy(SameUidPolicy.REJECT_NEWCOMER));
        String t = token("r", 7, Instant.now().plusSeconds(60));
        TestClient victim = servers.client(server);
        victim.join("app", "r", 7, t, 7);
        servers.live(server, victim, 7);
        TestClient peer = servers.client(server);
        peer.join("app", "r", 8, token("r", 8, Instant.now().plusSeconds(60)), 8);
        servers.live(server, peer, 8);
        Await.until("both members visible", TestClient.WAIT,
                () -> server.members("app", "r").equals(java.util.Set.of(7L, 8L)));
        assertEquals(8L, victim.expect(Message.PeerJoined.class).uid());

        TestClient thief = servers.client(server);
        thief.send(new Message.Join("app", "r", 7, t, 77, MediaClient.secret(77)));
        Message.JoinErr err = thief.expect(Message.JoinErr.class);
        assertEquals(ErrorCodes.SAME_UID_REJECTED, err.code());
        thief.expectClosed();
        victim.pingPong(3); // nothing else reached the victim: no SESSION_END, no presence change
        assertEquals(1, server.stats().sameUidRejects());
        assertEquals(java.util.Set.of(7L, 8L), server.members("app", "r"));
    }

    @Test
    void renewalWarningRenewAndExpiry() throws Exception {
        RoomServer server = servers.start(servers.builder().tokenSecret(SECRET).enforceTokenExpiry(true)
                .tokenExpiryWarning(Duration.ofSeconds(2)));
        Instant expiry = Instant.now().plusSeconds(3);
        TestClient c = servers.client(server);
        c.join("app", "r", 1, token("r", 1, expiry), 1);
        servers.live(server, c, 1);

        Message.TokenWillExpire warning = c.expect(Message.TokenWillExpire.class, Duration.ofSeconds(5));
        assertEquals(expiry.getEpochSecond(), warning.expiresAt());

        c.send(new Message.RenewToken(token("r", 2, expiry.plusSeconds(60)))); // another uid's token
        Message.RenewTokenResult refused = c.expect(Message.RenewTokenResult.class);
        assertEquals(ErrorCodes.INVALID_TOKEN, refused.code());
        assertEquals(expiry.getEpochSecond(), refused.expiresAt(), "a refused renewal keeps the old expiry");

        Instant renewed = expiry.plusSeconds(3);
        c.send(new Message.RenewToken(token("r", 1, renewed)));
        Message.RenewTokenResult ok = c.expect(Message.RenewTokenResult.class);
        assertEquals(0, ok.code());
        assertEquals(renewed.getEpochSecond(), ok.expiresAt());

        // Past the first expiry the session lives on; it is warned again and then ended.
        assertEquals(renewed.getEpochSecond(),
                c.expect(Message.TokenWillExpire.class, Duration.ofSeconds(8)).expiresAt());
        Message.SessionEnd end = c.expect(Message.SessionEnd.class, Duration.ofSeconds(8));
        assertEquals(ErrorCodes.TOKEN_EXPIRED, end.code());
        assertTrue(Instant.now().getEpochSecond() >= renewed.getEpochSecond(), "ended at its expiry, not before");
        c.expectClosed();
        assertEquals(1, server.stats().tokenRenewals());
        assertEquals(1, server.stats().tokenRenewalRejects());
        assertEquals(1, server.stats().tokenExpiries());
    }

    @Test
    void builderChecksTheCredentialOptions() {
        RoomServer.Builder b = RoomServer.builder();
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> b.maxTokenLifetime(Duration.ZERO));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> b.maxTokenLifetime(Duration.ofMillis(500)));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> b.tokenExpiryWarning(Duration.ofSeconds(-1)));
        org.junit.jupiter.api.Assertions.assertThrows(NullPointerException.class, () -> b.sameUidPolicy(null));
        RoomServerOptions o = b.maxTokenLifetime(Duration.ofMinutes(5)).sameUidPolicy(SameUidPolicy.REJECT_NEWCOMER)
                .enforceTokenExpiry(true).tokenExpiryWarning(Duration.ZERO).options();
        RoomServerOptions copy = o.toBuilder().options();
        assertEquals(Duration.ofMinutes(5), copy.maxTokenLifetime());
        assertEquals(SameUidPolicy.REJECT_NEWCOMER, copy.sameUidPolicy());
        assertTrue(copy.enforceTokenExpiry());
        assertEquals(Duration.ZERO, copy.tokenExpiryWarning());
    }
}
