package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.server.RoomServer;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaKeys;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import io.roomlink.testkit.BindFlood;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the media path (docs/PROTOCOL.md, "Media packets"). The victim's datagrams pass a
 * {@link MediaTap}, so the attacker knows its mediaKey and holds copies of its genuine datagrams,
 * as an eavesdropper on the path would. Every attack must change nothing: the victim and the two
 * witnesses see no state change, and the victim's media keeps being answered at its own address.
 */
class HostileMediaTest {
    private static final String CHANNEL = "media";
    private static final SecureRandom RANDOM = new SecureRandom();

    @Test
    void forgedAndReplayedBindsWithASniffedMediaKeyChangeNothing() throws Exception {
        try (Scene scene = Scene.start()) {
            long key = scene.victim.mediaKey();
            // Forged: the right key under keys from a guessed secret, at counters low and high.
            MediaKeys guessed = MediaKeys.derive(key, secret());
            int forged = 0;
            for (long counter : new long[] {1, 2, 3, 1_000, 1L << 40, Long.MAX_VALUE}) {
                for (int type : new int[] {MediaCodec.BIND, MediaCodec.PING}) {
                    byte[] d = MediaCodec.seal(new MediaPacket(type, key, counter, 1, 0), guessed.clientToServer());
                    scene.attacker.send(new DatagramPacket(d, d.length, scene.media));
                    forged++;
                }
            }
            // Replayed: every genuine datagram the victim sent so far, from the attacker's address.
            List<byte[]> sniffed = scene.tap.upstream();
            for (byte[] d : sniffed) {
                scene.attacker.send(new DatagramPacket(d, d.length, scene.media));
            }
            int replays = sniffed.size();
            long forgedTotal = forged;
            Fixtures.awaitTrue(() -> scene.server.stats().unauthenticatedDatagrams() >= forgedTotal
                    && scene.server.stats().replayedDatagrams() >= replays, WAIT, "the server to drop every attack datagram");
            scene.assertUnharmed();
        }
    }

    @Test
    void aJoinNamingAnotherSessionsMediaKeyDoesNotTakeIt() throws Exception {
        try (Scene scene = Scene.start(); RawSignal signal = new RawSignal(scene.server.signalPort())) {
            long key = scene.victim.mediaKey();
            byte[] own = secret();
            // The attacker's own channel and its own valid token: only the mediaKey is the victim's.
            signal.send(new Message.Join(Fixtures.APP_KEY, "attackers-room", 666, Fixtures.token("attackers-room", 666),
                    key, own));
            assertInstanceOf(Message.JoinOk.class, signal.read(5000));
            byte[] bind = MediaCodec.seal(new MediaPacket(MediaCodec.BIND, key, 1, 0, 0),
                    MediaKeys.derive(key, own).clientToServer());
            long before = scene.server.stats().unauthenticatedDatagrams();
            for (int i = 0; i < 5; i++) {
                scene.attacker.send(new DatagramPacket(bind, bind.length, scene.media));
            }
            Fixtures.awaitTrue(() -> scene.server.stats().unauthenticatedDatagrams() >= before + 5, WAIT,
                    "the attacker's BINDs to be checked against the holder's keys");
            assertEquals(1, scene.server.stats().mediaKeyConflicts());
            scene.assertUnharmed();
        }
    }

    @Test
    void aRandomBindFloodLeavesBoundSessionsAloneAndANewcomerStillJoins() throws Exception {
        try (RoomServer server = Fixtures.server().plaintext().start();
                Witnesses witnesses = Witnesses.join(server, CHANNEL)) {
            try (BindFlood flood = BindFlood.start("127.0.0.1", server.mediaPort(), 2)) {
                Fixtures.awaitTrue(() -> flood.sent() > 50_000, WAIT, "the flood to get going");
                RecordingListener newcomer = new RecordingListener("newcomer");
                long start = System.nanoTime();
                try (RoomEngine e = RoomEngine.create(Fixtures.config(server).plaintext(true).build(), newcomer)) {
                    Fixtures.joinAndAwait(e, newcomer, CHANNEL, 3);
                    long ms = (System.nanoTime() - start) / 1_000_000;
                    System.out.printf("random-BIND flood: newcomer joined in %d ms, %d BINDs sent so far, %d pending evicted%n",
                            ms, flood.sent(), server.stats().pendingBindEvictions());
                }
                // Let the flood run past two media timeouts of the witnesses.
                long mark = flood.sent();
                Fixtures.awaitTrue(() -> flood.sent() > mark + 100_000, WAIT, "100,000 more BINDs");
            }
            assertTrue(server.stats().malformedDatagrams() == 0, "the flood's BINDs are well-formed");
            witnesses.assertUndisturbed();
        }
    }

    private static byte[] secret() {
        byte[] s = new byte[MediaKeys.SECRET_LEN];
        RANDOM.nextBytes(s);
        return s;
    }

    /**
     * The scene of a media attack: a plaintext server, two witnesses, the victim (its media through
     * a tap), and the attacker's own UDP socket; {@code media} is the server's media address.
     */
    private static final class Scene implements AutoCloseable {
        RoomServer server;
        Witnesses witnesses;
        MediaTap tap;
        Victim victim;
        DatagramSocket attacker;
        InetSocketAddress media;

        static Scene start() throws Exception {
            Scene s = new Scene();
            try {
                s.server = Fixtures.server().plaintext().start();
                s.witnesses = Witnesses.join(s.server, CHANNEL);
                s.tap = new MediaTap(s.server.mediaPort());
                s.victim = Victim.join(s.server, s.tap);
                s.attacker = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                s.media = new InetSocketAddress(InetAddress.getLoopbackAddress(), s.server.mediaPort());
                return s;
            } catch (Exception | Error e) {
                s.close();
                throw e;
            }
        }

        /** After the attack: the victim's media still answered, nothing to the attacker, no one disturbed. */
        void assertUnharmed() throws Exception {
            victim.awaitMediaAnswered(4);
            assertNothingFor(attacker);
            victim.assertUndisturbed();
            witnesses.assertUndisturbed();
        }

        /** Closes what was made, in the reverse order, each whatever the others do. */
        @Override
        public void close() throws Exception {
            Exception failure = null;
            for (AutoCloseable c : new AutoCloseable[] {attacker, victim, tap, witnesses, server}) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (Exception e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }

    /** Nothing came back to the attacker: no BIND_ACK, no PONG. */
    private static void assertNothingFor(DatagramSocket attacker) throws Exception {
        attacker.setSoTimeout(1);
        byte[] in = new byte[MediaCodec.MAX_DATAGRAM];
        assertThrows(SocketTimeoutException.class, () -> attacker.receive(new DatagramPacket(in, in.length)),
                "the server answered the attacker");
    }

    /**
     * One engine in the channel whose media goes through the tap; {@code baseline} is how many
     * callbacks it had had when joined.
     */
    private record Victim(RoomEngine engine, RecordingListener listener, MediaTap tap, int baseline)
            implements AutoCloseable {

        static Victim join(RoomServer server, MediaTap tap) {
            RecordingListener l = new RecordingListener("victim");
            RoomEngine e = RoomEngine.create(Fixtures.config(server).plaintext(true)
                    .mediaAddressOverride(tap.host(), tap.port()).build(), l);
            try {
                Fixtures.joinAndAwait(e, l, CHANNEL, 1);
                Fixtures.awaitTrue(() -> tap.latest(MediaCodec.PING) != null, WAIT, "the victim's first PING");
            } catch (RuntimeException | Error failure) {
                e.close();
                throw failure;
            }
            return new Victim(e, l, tap, l.events().size());
        }

        /** The key of the victim's current media path, read off its clear header. */
        long mediaKey() {
            byte[] ping = tap.latest(MediaCodec.PING);
            assertNotNull(ping);
            return ByteBuffer.wrap(ping, 4, 8).getLong();
        }

        /** {@code n} more server answers reached the victim through its own binding. */
        void awaitMediaAnswered(int n) {
            long mark = tap.delivered();
            Fixtures.awaitTrue(() -> tap.delivered() >= mark + n, WAIT, n + " more PONGs to the victim");
        }

        void assertUndisturbed() {
            List<String> all = listener.events();
            List<String> states = all.subList(baseline, all.size()).stream().filter(s -> s.startsWith("state(")).toList();
            assertEquals(List.of(), states, "victim state changes during the attack");
            assertEquals(ConnectionState.CONNECTED, engine.getConnectionState());
        }

        @Override
        public void close() {
            engine.close();
        }
    }
}
