package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.server.RoomServer;
import io.roomlink.server.TokenBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Token renewal against a server that enforces token expiry (README, "Credentials"): the warning,
 * {@code renewToken}, its answer, the end of a session whose token ran out, and the renewed token
 * being the one a rejoin presents. Tokens live a few seconds; expiries are whole seconds.
 */
class TokenRenewalTest {
    private static final String CHANNEL = "renewal";
    private static final Duration LEAD = Duration.ofSeconds(2);
    private static final List<String> JOINED = List.of("state(CONNECTING, JOIN_CHANNEL)",
            "state(CONNECTED, JOIN_SUCCEED)");
    private RoomServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static RoomServer.Builder enforcing() {
        return Fixtures.server().enforceTokenExpiry(true).tokenExpiryWarning(LEAD);
    }

    private static String token(long uid, Instant expires) {
        return TokenBuilder.build(Fixtures.SECRET, Fixtures.APP_KEY, CHANNEL, uid, expires);
    }

    /** Waits until the wall clock has passed {@code instant} (the thing under test is an expiry). */
    private static void awaitPast(Instant instant) {
        Fixtures.awaitTrue(() -> Instant.now().isAfter(instant), Duration.ofSeconds(30), "the clock past " + instant);
    }

    private static List<String> withoutPeers(List<String> events) {
        return events.stream().filter(e -> !e.startsWith("onUserJoined(")).toList();
    }

    /** A session whose first token expires at {@code expiry}, and a peer in its channel that sees it come and go. */
    private record Watched(RoomEngine engine, RecordingListener listener, RoomEngine peerEngine, RecordingListener peer,
            Instant expiry) implements AutoCloseable {
        @Override
        public void close() {
            try {
                peerEngine.close();
            } finally {
                engine.close();
            }
        }
    }

    /**
     * On a fresh enforcing server: the peer (uid 2, a token that outlives the test) joins, then the
     * session (uid 1, {@code name}) is asked to join with a token expiring at the whole second
     * {@code seconds} from now.
     */
    private Watched watched(String name, long seconds) {
        server = enforcing().start();
        RecordingListener l = new RecordingListener(name);
        RecordingListener peer = new RecordingListener("peer");
        RoomEngine engine = RoomEngine.create(Fixtures.config(server).build(), l);
        RoomEngine peerEngine = RoomEngine.create(Fixtures.config(server).build(), peer);
        try {
            Fixtures.joinAndAwait(peerEngine, peer, token(2, Instant.now().plusSeconds(600)), CHANNEL, 2);
            Instant expiry = Instant.ofEpochSecond(Instant.now().getEpochSecond() + seconds);
            engine.joinChannel(token(1, expiry), CHANNEL, 1);
            return new Watched(engine, l, peerEngine, peer, expiry);
        } catch (RuntimeException | Error e) {
            new Watched(engine, l, peerEngine, peer, null).close();
            throw e;
        }
    }

    @Test
    void renewedBeforeExpiryTheSessionOutlivesTheFirstToken() {
        try (Watched w = watched("renewer", 4)) {
            w.peer().awaitEvent("onUserJoined(1)", WAIT);

            w.listener().awaitEvent("onTokenWillExpire()", WAIT);
            assertTrue(Instant.now().isBefore(w.expiry()), "warned before the expiry");
            assertEquals(ErrorCode.OK, w.engine().renewToken(token(1, Instant.now().plusSeconds(600))));
            w.listener().awaitEvent("onRenewTokenResult(OK)", WAIT);

            awaitPast(w.expiry().plusSeconds(1)); // a sweep (100 ms) would have ended it by now
            assertEquals(ConnectionState.CONNECTED, w.engine().getConnectionState());
            assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=1)", "onTokenWillExpire()", "onRenewTokenResult(OK)"), withoutPeers(w.listener().events()));
            assertTrue(w.peer().events().stream().noneMatch(e -> e.startsWith("onUserLeave(")), "peer saw no leave");
            assertEquals(1, server.stats().tokenRenewals());
            assertEquals(0, server.stats().tokenExpiries());
            assertEquals(List.of(), w.listener().violations());
        }
    }

    @Test
    void withoutRenewalTheServerEndsTheSessionAtExpiry() {
        try (Watched w = watched("lapsed", 3)) {
            List<String> events = w.listener().awaitEvent("onDisconnect(TOKEN_EXPIRED)", WAIT);
            assertTrue(!Instant.now().isBefore(w.expiry()), "ended at the expiry, not before");
            assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=1)", "onTokenWillExpire()", "state(DISCONNECTED, BE_KICKED)",
                    "onDisconnect(TOKEN_EXPIRED)"), withoutPeers(events));
            w.peer().awaitEvent("onUserLeave(1, KICKED)", WAIT);
            assertEquals(ConnectionState.DISCONNECTED, w.engine().getConnectionState());
            assertEquals(1, server.stats().tokenExpiries());
        }
    }

    @Test
    void aRefusedRenewalIsReportedAndTheOldExpiryStands() {
        server = enforcing().start();
        RecordingListener l = new RecordingListener("refused");
        try (RoomEngine engine = RoomEngine.create(Fixtures.config(server).build(), l)) {
            Instant expiry = Instant.ofEpochSecond(Instant.now().getEpochSecond() + 4);
            engine.joinChannel(token(1, expiry), CHANNEL, 1);
            l.awaitEvent("onTokenWillExpire()", WAIT);
            // A token for another uid: validly signed, but not this session's.
            assertEquals(ErrorCode.OK, engine.renewToken(token(99, Instant.now().plusSeconds(600))));
            l.awaitEvent("onRenewTokenResult(INVALID_TOKEN)", WAIT);
            List<String> events = l.awaitEvent("onDisconnect(TOKEN_EXPIRED)", WAIT);
            assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=1)", "onTokenWillExpire()", "onRenewTokenResult(INVALID_TOKEN)",
                    "state(DISCONNECTED, BE_KICKED)", "onDisconnect(TOKEN_EXPIRED)"), events);
            assertEquals(1, server.stats().tokenRenewalRejects());
        }
    }

    @Test
    void aRejoinAfterTheSessionIsLostPresentsTheRenewedToken() {
        server = enforcing().start();
        int signalPort = server.signalPort();
        int mediaPort = server.mediaPort();
        RecordingListener l = new RecordingListener("rejoiner");
        try (RoomEngine engine = RoomEngine.create(Fixtures.config(server).build(), l)) {
            Instant firstExpiry = Instant.ofEpochSecond(Instant.now().getEpochSecond() + 4);
            engine.joinChannel(token(1, firstExpiry), CHANNEL, 1);
            l.awaitEvent("onTokenWillExpire()", WAIT);
            engine.renewToken(token(1, Instant.now().plusSeconds(600)));
            l.awaitEvent("onRenewTokenResult(OK)", WAIT);

            server.close(); // the engine reconnects; the next server knows nothing of its session
            l.awaitEvent("onReconnectingStart()", WAIT);
            awaitPast(firstExpiry); // the first token is dead: only the renewed one can join now
            server = enforcing().signalPort(signalPort).mediaPort(mediaPort).start();

            List<String> events = l.awaitEvent("onRejoinChannel(OK)", WAIT);
            assertEquals(List.of("state(CONNECTING, JOIN_CHANNEL)", "state(CONNECTED, JOIN_SUCCEED)",
                    "onJoinChannel(OK, uid=1)", "onTokenWillExpire()", "onRenewTokenResult(OK)",
                    "state(RECONNECTING, SIGNAL_DISCONNECTED)", "onReconnectingStart()",
                    "state(CONNECTED, REJOIN_SUCCEED)", "onRejoinChannel(OK)"), events);
            assertEquals(1, server.stats().joins(), "joined the new server afresh");
        }
    }

    @Test
    void renewTokenChecksItsArgumentAndState() {
        server = Fixtures.server().start();
        RecordingListener l = new RecordingListener();
        try (RoomEngine engine = RoomEngine.create(Fixtures.config(server).build(), l)) {
            assertEquals(ErrorCode.NOT_JOINED, engine.renewToken("t"));
            assertEquals(ErrorCode.INVALID_ARGUMENT, engine.renewToken(null));
            assertEquals(ErrorCode.INVALID_ARGUMENT, engine.renewToken("x".repeat(1025)));
            Fixtures.joinAndAwait(engine, l, CHANNEL, 1);
            // A server that does not enforce expiry still checks and answers.
            assertEquals(ErrorCode.OK, engine.renewToken(Fixtures.token(CHANNEL, 1)));
            l.awaitEvent("onRenewTokenResult(OK)", WAIT);
            engine.close();
            assertEquals(ErrorCode.ENGINE_CLOSED, engine.renewToken("t"));
        }
    }
}
