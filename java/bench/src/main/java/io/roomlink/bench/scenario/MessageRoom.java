package io.roomlink.bench.scenario;

import io.roomlink.ErrorCode;
import io.roomlink.bench.harness.CheckFailed;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.MessageProbe;
import io.roomlink.bench.harness.Probe;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.TestRoomServer;
import java.util.List;

/** Shared by the in-process room-message scenarios: members whose listener records messages. */
final class MessageRoom {
    private MessageRoom() {
    }

    /** A joined (or joining) member and its message recorder. */
    record Peer(Local.Member member, MessageProbe messages) implements AutoCloseable {
        long uid() {
            return member.uid();
        }

        Probe probe() {
            return member.probe();
        }

        FaultProxy proxy() {
            return member.proxy();
        }

        /** Sends a bench payload ({@link MessageProbe#payload}) to everyone else, or to {@code toUid} if ≥ 0. */
        int send(long seq, int size, long toUid) {
            byte[] data = MessageProbe.payload(seq, size);
            return toUid >= 0 ? member.engine().sendMessage(toUid, data) : member.engine().sendMessage(data);
        }

        @Override
        public void close() {
            member.close();
        }
    }

    static Peer startJoin(TestRoomServer rooms, FaultProxy proxy, String channel, long uid) {
        MessageProbe[] recorder = new MessageProbe[1];
        Local.Member m = Local.startJoin(rooms, proxy, b -> b, channel, uid, p -> recorder[0] = new MessageProbe(p));
        return new Peer(m, recorder[0]);
    }

    /** Waits until every peer has joined and has seen every other one join. */
    static void awaitRoom(List<Peer> peers) {
        for (Peer p : peers) {
            Local.awaitJoined(p.member());
        }
        for (Peer p : peers) {
            for (Peer other : peers) {
                if (other != p) {
                    p.probe().require(0, e -> e.kind() == Probe.Kind.USER_JOINED && e.uid() == other.uid(), Local.WAIT,
                            "onUserJoined(" + other.uid() + ")");
                }
            }
        }
    }

    static void checkSent(int rc, String who) {
        CheckFailed.check(rc == ErrorCode.OK, who + ": sendMessage returned " + ErrorCode.nameOf(rc));
    }
}
