package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.server.RoomServer;
import io.roomlink.server.SameUidPolicy;
import io.roomlink.server.protocol.Message;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attacks on credentials (issue 10, "Credentials"), each against a real server with two witness
 * engines that must see nothing: a replayed RESUME with a secret that has been rotated away, a
 * token valid for ever, and a stolen token used for a second login while the real user is in.
 */
class HostileCredentialsTest {
    private static final String CHANNEL = "hostile-creds";
    private RoomServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A correctly signed token with any u64 expiry (TokenBuilder refuses those past 2^63-1). */
    static String tokenExpiringAt(String channel, long uid, long expiresU64) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Fixtures.SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String msg = Fixtures.APP_KEY + "\n" + channel + "\n" + Long.toUnsignedString(uid) + "\n"
                + Long.toUnsignedString(expiresU64);
        return HexFormat.of().toHexDigits(expiresU64) + "."
                + HexFormat.of().formatHex(mac.doFinal(msg.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void replayedResumeWithARotatedSecretFailsAndDisturbsNobody() throws Exception {
        server = Fixtures.server().plaintext().start();
        try (Witnesses witnesses = Witnesses.join(server, CHANNEL);
                WireAttacker owner = WireAttacker.connect(server.signalPort())) {
            owner.send(new Message.Join(Fixtures.APP_KEY, CHANNEL, 77, Fixtures.token(CHANNEL, 77), 1, new byte[16]));
            Message.JoinOk joined = owner.expect(Message.JoinOk.class);
            byte[] sniffed = joined.sessionSecret(); // what an eavesdropper on the JOIN_OK would hold

            try (WireAttacker resumer = WireAttacker.connect(server.signalPort())) {
                resumer.send(new Message.Resume(joined.sessionId(), sniffed, 1, new byte[16]));
                Message.ResumeOk resumed = resumer.expect(Message.ResumeOk.class);
                assertTrue(resumed.resumed());
                assertFalse(Arrays.equals(sniffed, resumed.sessionSecret()), "RESUME_OK rotates the secret");

                try (WireAttacker replay = WireAttacker.connect(server.signalPort())) {
                    replay.send(new Message.Resume(joined.sessionId(), sniffed, 2, new byte[16]));
                    assertEquals(ErrorCode.INVALID_TOKEN, replay.expect(Message.JoinErr.class).code());
                    assertTrue(replay.closedWithin(WAIT));
                }
                // The session the replay aimed at is still the resumer's: it still answers.
                resumer.send(new Message.Ping(42));
                assertEquals(42, resumer.expect(Message.Pong.class).nonce());
            }
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void tokenValidForEverIsRefused() throws Exception {
        server = Fixtures.server().plaintext().start();
        try (Witnesses witnesses = Witnesses.join(server, CHANNEL)) {
            RecordingListener l = new RecordingListener("forever");
            try (RoomEngine engine = RoomEngine.create(Fixtures.config(server).plaintext(true).build(), l)) {
                engine.joinChannel(tokenExpiringAt(CHANNEL, 5, -1L), CHANNEL, 5); // expiry 2^64-1
                List<String> events = l.awaitEvent("onJoinChannel(INVALID_TOKEN, uid=5)", WAIT);
                assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(FAILED, REQUEST_CHANNEL_FAILED)",
                        "onJoinChannel(INVALID_TOKEN, uid=5)"), events);
            }
            assertEquals(1, server.stats().tokenLifetimeRejects());
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void tokenJustBeyondTheCapIsRefusedAndOneWithinItJoins() throws Exception {
        server = Fixtures.server().plaintext().maxTokenLifetime(Duration.ofHours(1)).start();
        RecordingListener tooLong = new RecordingListener("too long");
        RecordingListener fine = new RecordingListener("fine");
        try (RoomEngine a = RoomEngine.create(Fixtures.config(server).plaintext(true).build(), tooLong);
                RoomEngine b = RoomEngine.create(Fixtures.config(server).plaintext(true).build(), fine)) {
            long now = System.currentTimeMillis() / 1000;
            a.joinChannel(tokenExpiringAt(CHANNEL, 1, now + 3600 + 120), CHANNEL, 1);
            tooLong.awaitEvent("onJoinChannel(INVALID_TOKEN, uid=1)", WAIT);
            Fixtures.joinAndAwait(b, fine, tokenExpiringAt(CHANNEL, 2, now + 3600 - 120), CHANNEL, 2);
        }
    }

    @Test
    void rejectNewcomerKeepsTheRealUserAndRefusesTheStolenToken() throws Exception {
        server = Fixtures.server().plaintext().sameUidPolicy(SameUidPolicy.REJECT_NEWCOMER).start();
        try (Witnesses witnesses = Witnesses.join(server, CHANNEL)) {
            String stolen = Fixtures.token(CHANNEL, 7);
            RecordingListener real = new RecordingListener("real");
            RecordingListener thief = new RecordingListener("thief");
            try (RoomEngine realEngine = RoomEngine.create(Fixtures.config(server).plaintext(true).build(), real);
                    RoomEngine thiefEngine = RoomEngine.create(Fixtures.config(server).plaintext(true).build(), thief)) {
                Fixtures.joinAndAwait(realEngine, real, stolen, CHANNEL, 7);
                Fixtures.awaitTrue(() -> server.members(Fixtures.APP_KEY, CHANNEL).contains(7L), WAIT, "uid 7 visible");
                int realBaseline = real.events().size();

                thiefEngine.joinChannel(stolen, CHANNEL, 7);
                List<String> events = thief.awaitEvent("onJoinChannel(SAME_UID_REJECTED, uid=7)", WAIT);
                assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(FAILED, REQUEST_CHANNEL_FAILED)",
                        "onJoinChannel(SAME_UID_REJECTED, uid=7)"), events.subList(0, 3));

                assertEquals(ConnectionState.CONNECTED, realEngine.getConnectionState());
                List<String> sinceThief = real.events().subList(realBaseline, real.events().size());
                assertEquals(List.of(), sinceThief.stream().filter(e -> e.startsWith("state(")
                        || e.startsWith("onDisconnect(")).toList(), "the real user saw nothing");
                witnesses.assertUndisturbed(); // before the real user leaves, which they would see
            }
            assertEquals(1, server.stats().sameUidRejects());
        }
    }
}
