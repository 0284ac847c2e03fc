package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static io.roomlink.Fixtures.config;
import static io.roomlink.Fixtures.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.server.ErrorCodes;
import io.roomlink.server.RoomServer;
import io.roomlink.server.protocol.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Over-cap members, channels and join rate: the newcomer over a cap gets JOIN_ERR(31022), which the
 * SDK reports as FAILED/REQUEST_CHANNEL_FAILED with onJoinChannel(SERVER_LIMIT); the members already
 * in see nothing.
 */
class HostileCapsTest {
    @Test
    void aFullChannelRefusesTheNextMemberAndItsMembersSeeNothing() {
        try (RoomServer server = Fixtures.server().plaintext().maxMembersPerChannel(3).start();
                Witnesses witnesses = Witnesses.join(server, "full")) {
            RecordingListener third = new RecordingListener("third");
            try (RoomEngine e3 = RoomEngine.create(config(server).plaintext(true).build(), third)) {
                Fixtures.joinAndAwait(e3, third, "full", 3);
                assertRefused(server, "full", 4);
                // a member that is already in may come back (same uid), the cap counts sessions
                assertEquals(1, server.stats().channelFullRejects());
            }
            assertEquals(ErrorCode.SERVER_LIMIT, ErrorCodes.SERVER_LIMIT);
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void theChannelCapRefusesAJoinThatWouldOpenOneMore() {
        try (RoomServer server = Fixtures.server().plaintext().maxChannels(2).start();
                Witnesses witnesses = Witnesses.join(server, "room-a")) {
            RecordingListener other = new RecordingListener("other");
            try (RoomEngine e = RoomEngine.create(config(server).plaintext(true).build(), other)) {
                Fixtures.joinAndAwait(e, other, "room-b", 7);
                assertRefused(server, "room-c", 8);
                assertEquals(1, server.stats().channelLimitRejects());
                // an existing channel still takes members
                RecordingListener more = new RecordingListener("more");
                try (RoomEngine e2 = RoomEngine.create(config(server).plaintext(true).build(), more)) {
                    Fixtures.joinAndAwait(e2, more, "room-b", 9);
                }
            }
            // once a channel closes, its slot is free again
            Fixtures.awaitTrue(() -> server.members(Fixtures.APP_KEY, "room-b").isEmpty()
                    && server.channelId(Fixtures.APP_KEY, "room-b").isEmpty(), WAIT, "room-b to close");
            RecordingListener later = new RecordingListener("later");
            try (RoomEngine e = RoomEngine.create(config(server).plaintext(true).build(), later)) {
                Fixtures.joinAndAwait(e, later, "room-c", 8);
            }
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void joinAttemptsPerAddressAreRateLimited() throws Exception {
        int rate = 20;
        try (RoomServer server = Fixtures.server().plaintext().joinRatePerIp(rate, rate).start();
                Witnesses witnesses = Witnesses.join(server, "rated")) {
            int invalid = 0;
            int limited = 0;
            long start = System.nanoTime();
            // A password-guessing loop: bad tokens as fast as one connection after another allows.
            for (int i = 0; i < 200; i++) {
                try (RawSignal c = new RawSignal(server.signalPort())) {
                    c.send(new Message.Join(Fixtures.APP_KEY, "rated", 5000 + i, "guess-" + i, i, new byte[16]));
                    Message m = c.read(5000);
                    Message.JoinErr err = assertInstanceOf(Message.JoinErr.class, m);
                    if (err.code() == ErrorCodes.SERVER_LIMIT) {
                        limited++;
                    } else {
                        assertEquals(ErrorCodes.INVALID_TOKEN, err.code());
                        invalid++;
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // the bucket holds `rate` (minus the two witness joins) and refills at `rate` per second
            assertTrue(invalid <= rate + rate * seconds + 1, invalid + " guesses checked in " + seconds + " s");
            assertTrue(limited > 0, "no attempt was rate-limited");
            assertEquals(limited, server.stats().joinRateRejects());
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void newConnectionsPerAddressAreRateLimitedBeforeTheirHandshake() throws Exception {
        int rate = 10;
        try (RoomServer server = Fixtures.server().plaintext().connectionRatePerIp(rate, rate).start();
                Witnesses witnesses = Witnesses.join(server, "conn-rated")) {
            long start = System.nanoTime();
            int admitted = 0;
            int refused = 0;
            for (int i = 0; i < 60; i++) {
                try (RawSignal c = new RawSignal(server.signalPort())) {
                    if (answersAPing(c, i)) {
                        admitted++;
                    } else {
                        refused++;
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            // the bucket holds `rate` (minus the witnesses' two connections) and refills at `rate` per second
            assertTrue(admitted <= rate + rate * seconds + 1, admitted + " admitted in " + seconds + " s");
            assertTrue(refused > 0, "no connection was rate-limited");
            assertEquals(refused, server.stats().connectionRateRejects());
            try (RawSignal other = new RawSignal(server.signalPort(), "127.0.0.2")) {
                assertTrue(answersAPing(other, 99), "another address has a bucket of its own");
            }
            witnesses.assertUndisturbed();
        }
    }

    @Test
    void renewalsShareTheAddressTokenCheckRateAndARefusedOneKeepsTheSession() {
        int rate = 5;
        try (RoomServer server = Fixtures.server().plaintext().joinRatePerIp(rate, rate).start();
                Witnesses witnesses = Witnesses.join(server, "renew-rated")) {
            RecordingListener l = new RecordingListener("renewer");
            try (RoomEngine e = RoomEngine.create(config(server).plaintext(true).build(), l)) {
                e.joinChannel(token("renew-rated", 3), "renew-rated", 3);
                l.awaitEvent("onJoinChannel(OK, uid=3)", WAIT);
                int renewals = 40;
                long start = System.nanoTime();
                for (int i = 0; i < renewals; i++) {
                    assertEquals(ErrorCode.OK, e.renewToken(token("renew-rated", 3)));
                }
                Fixtures.awaitTrue(() -> l.events().stream().filter(s -> s.startsWith("onRenewTokenResult(")).count()
                        == renewals, WAIT, "every renewal answered");
                double seconds = (System.nanoTime() - start) / 1e9;
                long ok = l.events().stream().filter(s -> s.equals("onRenewTokenResult(OK)")).count();
                long limited = l.events().stream().filter(s -> s.equals("onRenewTokenResult(SERVER_LIMIT)")).count();
                assertEquals(renewals, ok + limited, l.events().toString());
                // three of the bucket's tokens went to the joins; it refills at `rate` per second
                assertTrue(ok <= rate + rate * seconds + 1, ok + " renewals checked in " + seconds + " s");
                assertTrue(limited > 0, "no renewal was rate-limited");
                assertEquals(limited, server.stats().tokenRenewalRateRejects());
                assertEquals(ConnectionState.CONNECTED, e.getConnectionState());
                assertTrue(l.events().stream().noneMatch(s -> s.startsWith("state(")
                        && !s.equals("state(CONNECTING, JOIN_CHANNEL)") && !s.equals("state(CONNECTED, JOIN_SUCCEED)")),
                        l.events().toString());
            }
            witnesses.assertUndisturbed();
        }
    }

    /** True if the server answers a pre-JOIN PING on {@code c}, false if it closed the connection. */
    private static boolean answersAPing(RawSignal c, long nonce) throws Exception {
        try {
            c.send(new Message.Ping(nonce));
            return c.read(5000) instanceof Message.Pong;
        } catch (java.io.IOException e) {
            return false; // reset: closed at accept
        }
    }

    private static void assertRefused(RoomServer server, String channel, long uid) {
        RecordingListener l = new RecordingListener("refused");
        try (RoomEngine e = RoomEngine.create(config(server).plaintext(true).build(), l)) {
            assertEquals(ErrorCode.OK, e.joinChannel(token(channel, uid), channel, uid));
            List<String> events = l.awaitEvent("onJoinChannel(SERVER_LIMIT, uid=" + uid + ")", WAIT);
            assertEquals(List.of(
                    "state(CONNECTING, JOIN_CHANNEL)",
                    "state(FAILED, REQUEST_CHANNEL_FAILED)",
                    "onJoinChannel(SERVER_LIMIT, uid=" + uid + ")"), events);
            assertEquals(ConnectionState.FAILED, e.getConnectionState());
        }
    }
}
