package io.roomlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.FaultProxy.Direction;
import io.roomlink.testkit.FaultProxy.Path;
import io.roomlink.testkit.TestRoomServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Reliable room messages (docs/PROTOCOL.md, "Room messages") between real engines and a real
 * server, through {@link FaultProxy} networks: exactly once and in order per sender across every
 * outage the session survives, and never lost without {@code onMessagesUndelivered}.
 */
class MessagesTest {
    static final String CHANNEL = "messages";
    static final long A = 1;
    static final long B = 2;
    static final long C = 3;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final List<RecordingListener> listeners = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        for (RecordingListener l : listeners) {
            assertEquals(List.of(), l.violations());
        }
    }

    private TestRoomServer server(TestRoomServer.Builder builder) {
        TestRoomServer rooms = builder.start();
        open.add(rooms);
        return rooms;
    }

    private MessageLedger member(String name, long uid) {
        MessageLedger ledger = new MessageLedger(name, uid);
        listeners.add(ledger);
        return ledger;
    }

    private RoomEngine engine(RoomEngineConfig.Builder config, RecordingListener listener) {
        RoomEngine engine = RoomEngine.create(config.build(), listener);
        open.add(engine);
        return engine;
    }

    private MessageSender sender(long uid, RoomEngine engine, long... others) {
        MessageSender sender = new MessageSender(uid, engine, 4, others);
        open.add(sender);
        return sender;
    }

    private static void join(TestRoomServer rooms, RoomEngine engine, RecordingListener listener, long uid) {
        Fixtures.joinAndAwait(engine, listener, rooms.token(Fixtures.APP_KEY, CHANNEL, uid), CHANNEL, uid);
    }

    /** Waits until the engine is CONNECTED and traffic has crossed its network both ways again. */
    private static void awaitBack(RoomEngine engine, FaultProxy network) {
        Fixtures.awaitTrue(() -> engine.getConnectionState() == ConnectionState.CONNECTED, Duration.ofSeconds(20),
                "CONNECTED again");
        Outages.awaitTrafficBothWays(network);
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void threeMembersExchangeTenThousandMessagesExactlyOnceInOrderWhileAsNetworkFails() {
        TestRoomServer rooms = server(TestRoomServer.builder().sessionGrace(Duration.ofSeconds(8)));
        FaultProxy networkOfA = rooms.newFaultProxy();
        MessageLedger a = member("A", A);
        MessageLedger b = member("B", B);
        MessageLedger c = member("C", C);
        RoomEngine engineA = engine(Outages.config(networkOfA.signalPort()), a);
        RoomEngine engineB = engine(Outages.config(rooms.serverSignalPort()), b);
        RoomEngine engineC = engine(Outages.config(rooms.serverSignalPort()), c);
        join(rooms, engineA, a, A);
        join(rooms, engineB, b, B);
        join(rooms, engineC, c, C);
        a.awaitEvent("onUserJoined(3)", Fixtures.WAIT);
        b.awaitEvent("onUserJoined(3)", Fixtures.WAIT);
        c.awaitEvent("onUserJoined(1)", Fixtures.WAIT);
        c.awaitEvent("onUserJoined(2)", Fixtures.WAIT);

        MessageSender fromA = sender(A, engineA, B, C);
        MessageSender fromB = sender(B, engineB, A, C);
        MessageSender fromC = sender(C, engineC, A, B);
        // 3 x 3334 messages at 100/s each: about 34 s, long enough for every fault below.
        for (MessageSender s : List.of(fromA, fromB, fromC)) {
            s.start(3334, 10_000);
        }
        long cut = System.nanoTime();
        networkOfA.blackhole(Path.BOTH, Direction.BOTH);
        Outages.holdFor(cut, Duration.ofSeconds(1));
        networkOfA.restore();
        awaitBack(engineA, networkOfA);

        cut = System.nanoTime();
        networkOfA.blackhole(Path.BOTH, Direction.BOTH);
        Outages.holdFor(cut, Duration.ofSeconds(5)); // within the 8 s grace: the session survives
        networkOfA.restore();
        awaitBack(engineA, networkOfA);

        cut = System.nanoTime();
        networkOfA.blackhole(Path.BOTH, Direction.BOTH);
        b.awaitEvent("onUserLeave(1, TIMEOUT)", Duration.ofSeconds(20)); // beyond grace: A's session ends
        Outages.holdFor(cut, Duration.ofSeconds(12));
        networkOfA.restore();
        awaitBack(engineA, networkOfA);
        b.awaitEvent("onUserJoined(1)", Fixtures.WAIT);

        networkOfA.resetConnections();
        awaitBack(engineA, networkOfA);

        long lossy = System.nanoTime();
        networkOfA.loss(Path.BOTH, 0.2);
        Outages.holdFor(lossy, Duration.ofSeconds(3));
        networkOfA.restore();
        long duplicating = System.nanoTime();
        networkOfA.duplicate(0.2);
        Outages.holdFor(duplicating, Duration.ofSeconds(3));
        networkOfA.restore();
        awaitBack(engineA, networkOfA);

        for (MessageSender s : List.of(fromA, fromB, fromC)) {
            s.awaitDone(Duration.ofSeconds(60));
        }
        MessageSender[] senders = {fromA, fromB, fromC};
        MessageLedger[] members = {a, b, c};
        for (MessageLedger receiver : members) {
            for (MessageSender s : senders) {
                if (s.uid() != receiverUid(receiver, members)) {
                    receiver.awaitLast(s.uid(), s.lastTo(receiverUid(receiver, members)), Duration.ofSeconds(30));
                }
            }
        }
        List<String> failures = new ArrayList<>();
        for (MessageSender s : senders) {
            failures.addAll(s.refused());
        }
        for (int r = 0; r < members.length; r++) {
            failures.addAll(members[r].problems());
            for (MessageSender s : senders) {
                if (s.uid() != r + 1) {
                    // A was out of the room once (the 12 s cut, beyond grace): what the others sent
                    // meanwhile is not owed to it, one run of numbers per sender. Nothing else may miss.
                    failures.addAll(members[r].check(s, r + 1 == A ? 1 : 0));
                }
            }
        }
        assertEquals(List.of(), failures);
        long total = fromA.acceptedCount() + fromB.acceptedCount() + fromC.acceptedCount();
        assertEquals(10_002, total, "every send was accepted");
        for (MessageLedger m : members) {
            assertTrue(m.events().stream().noneMatch(e -> e.startsWith("onMessagesUndelivered")), m.events().toString());
        }
    }

    private static long receiverUid(MessageLedger ledger, MessageLedger[] members) {
        for (int i = 0; i < members.length; i++) {
            if (members[i] == ledger) {
                return i + 1;
            }
        }
        throw new AssertionError();
    }

    @Test
    void aSenderAndItsReceiverInAnOutageAtOnceBothResumeAndLoseNothing() {
        TestRoomServer rooms = server(TestRoomServer.builder().sessionGrace(Duration.ofSeconds(10)));
        FaultProxy networkOfA = rooms.newFaultProxy();
        FaultProxy networkOfB = rooms.newFaultProxy();
        MessageLedger a = member("A", A);
        MessageLedger b = member("B", B);
        MessageLedger c = member("C", C);
        RoomEngine engineA = engine(Outages.config(networkOfA.signalPort()), a);
        RoomEngine engineB = engine(Outages.config(networkOfB.signalPort()), b);
        RoomEngine engineC = engine(Outages.config(rooms.serverSignalPort()), c);
        join(rooms, engineA, a, A);
        join(rooms, engineB, b, B);
        join(rooms, engineC, c, C);
        a.awaitEvent("onUserJoined(3)", Fixtures.WAIT);
        b.awaitEvent("onUserJoined(3)", Fixtures.WAIT);
        c.awaitEvent("onUserJoined(2)", Fixtures.WAIT);
        a.clear();
        b.clear();
        c.clear();
        MessageSender fromA = sender(A, engineA, B, C);
        MessageSender fromB = sender(B, engineB, A, C);
        MessageSender fromC = sender(C, engineC, A, B);
        for (MessageSender s : List.of(fromA, fromB, fromC)) {
            s.start(300, 20_000); // 50/s for 6 s
        }
        long cut = System.nanoTime();
        networkOfA.blackhole(Path.BOTH, Direction.BOTH);
        networkOfB.blackhole(Path.BOTH, Direction.BOTH);
        a.awaitEvent("onReconnectingStart()", Duration.ofSeconds(8));
        b.awaitEvent("onReconnectingStart()", Duration.ofSeconds(8));
        Outages.holdFor(cut, Duration.ofSeconds(3));
        networkOfA.restore();
        networkOfB.restore();
        a.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(10));
        b.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(10));
        for (MessageSender s : List.of(fromA, fromB, fromC)) {
            s.awaitDone(Duration.ofSeconds(30));
        }
        MessageLedger[] members = {a, b, c};
        MessageSender[] senders = {fromA, fromB, fromC};
        List<String> failures = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
            for (MessageSender s : senders) {
                if (s.uid() != r + 1) {
                    members[r].awaitLast(s.uid(), s.lastTo(r + 1), Duration.ofSeconds(20));
                    failures.addAll(members[r].check(s, 0));
                }
            }
            failures.addAll(members[r].problems());
        }
        assertEquals(List.of(), failures);
        // Within grace nobody saw anyone leave: C saw nothing at all, A and B only their own outage.
        assertEquals(List.of(), c.events());
        assertEquals(Outages.SIGNAL_RESUMED.subList(1, 4), a.events().subList(1, 4));
    }

    @Test
    void aSessionThatFailsReportsExactlyTheMessagesTheServerNeverAcknowledged() {
        TestRoomServer rooms = server(TestRoomServer.builder());
        MessageLedger a = member("A", A);
        MessageLedger b = member("B", B);
        RoomEngine engineA = engine(Outages.config(rooms.serverSignalPort()).reconnectTimeout(Duration.ofSeconds(2)), a);
        RoomEngine engineB = engine(Outages.config(rooms.serverSignalPort()), b);
        join(rooms, engineA, a, A);
        join(rooms, engineB, b, B);
        a.awaitEvent("onUserJoined(2)", Fixtures.WAIT);
        assertEquals(ErrorCode.OK, engineA.sendMessage(text("1:1:*")));
        b.awaitLast(A, 1, Fixtures.WAIT);
        rooms.stopServer(); // down for good: the reconnect gives up after 2 s
        for (int i = 2; i <= 8; i++) {
            assertEquals(ErrorCode.OK, engineA.sendMessage(text("1:" + i + ":*")));
        }
        List<String> seen = a.awaitEvent("onMessagesUndelivered(7, RECONNECT_TIMEOUT)", Duration.ofSeconds(15));
        assertEquals(List.of("state(FAILED, TIMEOUT)", "onDisconnect(RECONNECT_TIMEOUT)",
                "onMessagesUndelivered(7, RECONNECT_TIMEOUT)"), seen.subList(seen.size() - 3, seen.size()));
        assertEquals(ErrorCode.NOT_JOINED, engineA.sendMessage(text("1:9:*")));
        assertEquals(List.of(1L), b.from(A));
    }

    @Test
    void messagesQueuedWhileTheServerRestartsAreSentOnceInTheFreshSession() {
        TestRoomServer rooms = server(TestRoomServer.builder());
        FaultProxy networkOfA = rooms.newFaultProxy();
        MessageLedger a = member("A", A);
        MessageLedger b = member("B", B);
        RoomEngine engineA = engine(Outages.config(networkOfA.signalPort()), a);
        RoomEngine engineB = engine(Outages.config(rooms.serverSignalPort()), b);
        join(rooms, engineA, a, A);
        join(rooms, engineB, b, B);
        b.awaitEvent("onUserJoined(1)", Fixtures.WAIT);
        networkOfA.blackhole(Path.BOTH, Direction.BOTH); // A comes back only after B is in again
        rooms.stopServer();
        for (int i = 1; i <= 5; i++) {
            assertEquals(ErrorCode.OK, engineA.sendMessage(text("1:" + i + ":*")));
        }
        rooms.restart();
        b.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(15));
        // The fresh server's snapshot lacks A (still cut off): B is told A left, right after its rejoin.
        b.awaitEvent("onUserLeave(1, NORMAL)", Fixtures.WAIT);
        b.clear();
        networkOfA.restore();
        a.awaitEvent("onRejoinChannel(OK)", Duration.ofSeconds(15));
        b.awaitLast(A, 5, Fixtures.WAIT);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), b.from(A));
        assertEquals(List.of(), b.problems());
        assertEquals("onUserJoined(1)", b.events().get(0), "the sender is in the room before its messages");
        assertTrue(a.events().stream().noneMatch(e -> e.startsWith("onMessagesUndelivered")), a.events().toString());
    }

    @Test
    void aFullQueueRefusesUntilTheServerAcknowledgesAndThenEverythingArrives() {
        TestRoomServer rooms = server(TestRoomServer.builder());
        FaultProxy networkOfA = rooms.newFaultProxy();
        MessageLedger a = member("A", A);
        MessageLedger b = member("B", B);
        RoomEngine engineA = engine(Outages.config(networkOfA.signalPort()).messageQueueLimit(16_384), a);
        RoomEngine engineB = engine(Outages.config(rooms.serverSignalPort()), b);
        join(rooms, engineA, a, A);
        join(rooms, engineB, b, B);
        b.awaitEvent("onUserJoined(1)", Fixtures.WAIT);
        networkOfA.blackhole(Path.BOTH, Direction.BOTH);
        for (int i = 1; i <= 16; i++) {
            assertEquals(ErrorCode.OK, engineA.sendMessage(padded(i)), "message " + i);
        }
        assertEquals(ErrorCode.MESSAGE_QUEUE_FULL, engineA.sendMessage(padded(17)));
        assertEquals(ErrorCode.INVALID_ARGUMENT, engineA.sendMessage(new byte[RoomEngine.MAX_MESSAGE_BYTES + 1]));
        assertEquals(ErrorCode.INVALID_ARGUMENT, engineA.sendMessage(new byte[0]));
        assertEquals(ErrorCode.INVALID_ARGUMENT, engineA.sendMessage(null));
        assertEquals(ErrorCode.INVALID_ARGUMENT, engineA.sendMessage(-1, text("x")));
        networkOfA.restore();
        b.awaitLast(A, 16, Duration.ofSeconds(15));
        Fixtures.awaitTrue(() -> engineA.sendMessage(padded(17)) == ErrorCode.OK, Fixtures.WAIT,
                "the queue drained once the server acknowledged");
        b.awaitLast(A, 17, Fixtures.WAIT);
        List<Long> expected = new ArrayList<>();
        for (long i = 1; i <= 17; i++) {
            expected.add(i);
        }
        assertEquals(expected, b.from(A));
    }

    /** A 1 KiB message that the ledger reads as {@code 1:<seq>:*}. */
    private static byte[] padded(int seq) {
        byte[] head = text("1:" + seq + ":*");
        byte[] data = new byte[1024];
        java.util.Arrays.fill(data, (byte) '*');
        System.arraycopy(head, 0, data, 0, head.length);
        return data;
    }

    @Test
    void leaveDeliversEveryAcceptedMessageBeforeTheLeave() {
        TestRoomServer rooms = server(TestRoomServer.builder());
        MessageLedger a = member("A", A);
        MessageLedger b = member("B", B);
        RoomEngine engineA = engine(Outages.config(rooms.serverSignalPort()), a);
        RoomEngine engineB = engine(Outages.config(rooms.serverSignalPort()), b);
        join(rooms, engineA, a, A);
        join(rooms, engineB, b, B);
        b.awaitEvent("onUserJoined(1)", Fixtures.WAIT);
        b.clear();
        for (int i = 1; i <= 200; i++) {
            assertEquals(ErrorCode.OK, engineA.sendMessage(text("1:" + i + ":*")));
        }
        assertEquals(ErrorCode.OK, engineA.leaveChannel());
        b.awaitEvent("onUserLeave(1, NORMAL)", Fixtures.WAIT);
        assertEquals(200, b.from(A).size());
        assertEquals(200L, b.from(A).get(199));
        assertEquals(List.of("onUserLeave(1, NORMAL)"), b.events());
        assertEquals(List.of(), b.problems(), "no message after the leave");
        assertTrue(a.events().stream().noneMatch(e -> e.startsWith("onMessagesUndelivered")), a.events().toString());
    }

    @Test
    void aKickedSessionReportsWhatTheServerNeverTook() {
        TestRoomServer rooms = server(TestRoomServer.builder());
        FaultProxy networkOfA = rooms.newFaultProxy();
        MessageLedger a = member("A", A);
        MessageLedger b = member("B", B);
        RoomEngine engineA = engine(Outages.config(networkOfA.signalPort()), a);
        RoomEngine engineB = engine(Outages.config(rooms.serverSignalPort()), b);
        join(rooms, engineA, a, A);
        join(rooms, engineB, b, B);
        b.awaitEvent("onUserJoined(1)", Fixtures.WAIT);
        networkOfA.blackhole(Path.SIGNAL, Direction.UPSTREAM); // A's messages never reach the server
        for (int i = 1; i <= 5; i++) {
            assertEquals(ErrorCode.OK, engineA.sendMessage(text("1:" + i + ":*")));
        }
        assertTrue(rooms.server().kickUser(Fixtures.APP_KEY, CHANNEL, A));
        List<String> seen = a.awaitEvent("onMessagesUndelivered(5, SERVER_KICKED)", Fixtures.WAIT);
        assertEquals(List.of("state(DISCONNECTED, BE_KICKED)", "onDisconnect(SERVER_KICKED)",
                "onMessagesUndelivered(5, SERVER_KICKED)"), seen.subList(seen.size() - 3, seen.size()));
        networkOfA.restore();
        assertEquals(List.of(), b.from(A));
    }

    @Test
    void aSenderOverTheServersRateIsClosedAloneAndItsMessagesStillArriveOnce() {
        TestRoomServer rooms = server(TestRoomServer.builder()
                .configureServer(s -> s.maxMessageBytesPerSecond(16_384)));
        MessageLedger a = member("A", A);
        MessageLedger b = member("B", B);
        RoomEngine engineA = engine(Outages.config(rooms.serverSignalPort()), a);
        RoomEngine engineB = engine(Outages.config(rooms.serverSignalPort()), b);
        join(rooms, engineA, a, A);
        join(rooms, engineB, b, B);
        b.awaitEvent("onUserJoined(1)", Fixtures.WAIT);
        b.clear();
        for (int i = 1; i <= 48; i++) { // 48 KiB at once: over the 2 s (32 KiB) the server allows
            assertEquals(ErrorCode.OK, engineA.sendMessage(padded(i)));
        }
        a.awaitEvent("onReconnectingStart()", Fixtures.WAIT);
        b.awaitLast(A, 48, Duration.ofSeconds(30));
        List<Long> expected = new ArrayList<>();
        for (long i = 1; i <= 48; i++) {
            expected.add(i);
        }
        assertEquals(expected, b.from(A), "exactly once, in order, despite the closes");
        assertTrue(rooms.server().stats().messageRateRejects() >= 1);
        assertEquals(List.of(), b.events(), "B saw nothing of A's closes: A resumed within grace");
    }
}
